# SPDX-License-Identifier: MIT
"""Plain HTTP sent to a TLS listener gets nginx's plain-text 400 ("The plain HTTP request was
sent to HTTPS port") and a close; other bytes that are not TLS get a close and no HTTP answer;
TLS clients are served as before."""
import socket
import time

import pytest

from conftest import _Factories
import ghtest
from ghtest import build
import tlsutil

BODY = b"The plain HTTP request was sent to HTTPS port\n"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls-plain-http")
    f = _Factories(tmp)
    try:
        certs = tlsutil.Certs(str(tmp))
        backend = f.backend()
        log = str(tmp / "access.log")
        gh = f.gatehouse(tlsutil.tls_stack_config(f, backend, certs,
                                                  access_log={"path": log,
                                                              "format": "combined"}))
    except BaseException:
        f.teardown()
        raise
    gh.certs = certs
    gh.access_log = log
    yield gh
    f.teardown()


def raw_exchange(gh, *pieces, pause=0.0):
    """Sends |pieces| over plain TCP to the TLS listener; returns (every byte received until the
    server closed, True if it closed within the timeout)."""
    s = socket.create_connection(tlsutil.https_addr(gh), timeout=ghtest.TIMEOUT)
    out = bytearray()
    try:
        for i, p in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            s.sendall(p)
        deadline = time.monotonic() + ghtest.TIMEOUT
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                return bytes(out), True
            if not data:
                return bytes(out), True
            out += data
        return bytes(out), False
    except socket.timeout:
        return bytes(out), False
    finally:
        s.close()


def parse(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, raw
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0], fields, body


@pytest.mark.parametrize("request_bytes", [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc",
    b"PUT /x HTTP/1.0\r\n\r\n",
    b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
], ids=["GET", "POST", "PUT", "CONNECT"])
def test_plain_http_gets_a_400_in_plain_text_then_a_close(tls, request_bytes):
    raw, closed = raw_exchange(tls, request_bytes)
    assert closed, raw
    status, fields, body = parse(raw)
    assert status == "HTTP/1.1 400 Bad Request"
    assert fields["content-type"].startswith("text/plain")
    assert fields["connection"] == "close"
    assert fields["server"] == "gatehouse"
    assert "date" in fields
    assert int(fields["content-length"]) == len(body)
    assert body == BODY


def test_a_request_in_pieces_is_recognised(tls):
    raw, closed = raw_exchange(tls, b"GE", b"T / HTTP/1.1\r\n", b"Host: localhost\r\n\r\n",
                               pause=0.1)
    assert closed
    assert raw.startswith(b"HTTP/1.1 400 "), raw
    assert raw.endswith(BODY)


def test_a_large_request_body_is_drained_so_the_client_reads_the_400(tls):
    """The close after the answer lingers: unread bytes would otherwise turn it into a reset
    that can destroy the answer before the client reads it."""
    body = b"x" * (256 * 1024)
    raw, closed = raw_exchange(tls, b"POST /up HTTP/1.1\r\nHost: localhost\r\n"
                               b"Content-Length: %d\r\n\r\n" % len(body), body)
    assert closed
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:200]
    assert raw.endswith(BODY)


def test_curl_with_http_to_the_tls_port_shows_the_400(tls):
    host, port = tlsutil.https_addr(tls)
    out = ghtest.curl("-i", "http://%s:%d/some/path" % (host, port), timeout=15)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(b"HTTP/1.1 400 Bad Request\r\n"), out.stdout
    assert out.stdout.endswith(BODY)


@pytest.mark.parametrize("garbage", [
    b"\x00\x01\x02\x03\x04\x05\x06\x07garbage\r\n\r\n",
    b"hello there\r\n\r\n",
    b"get / HTTP/1.1\r\nHost: localhost\r\n\r\n",  # not a method: methods are upper case
], ids=["binary", "text", "lowercase-get"])
def test_other_bytes_are_closed_without_an_http_answer(tls, garbage):
    raw, closed = raw_exchange(tls, garbage)
    assert closed
    # OpenSSL may send an alert record (type 21) on its way out; never an HTTP answer.
    assert b"HTTP" not in raw, raw
    assert raw == b"" or raw[0] == 0x15, raw


def test_tls_clients_are_served_after_plain_http_and_garbage(tls):
    raw_exchange(tls, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    raw_exchange(tls, b"\x00garbage\r\n")
    c = tlsutil.tls_connect(tls, tls.certs)
    assert c.exchange(build("GET", "/echo")).status == 200
    c.close()
    out = tlsutil.curl_https(tls, tls.certs, "/echo", "-o", "/dev/null", "-w", "%{http_code}")
    assert out.stdout == b"200", out.stderr


def test_the_400_is_in_the_access_log(tls):
    raw_exchange(tls, b"GET /logged HTTP/1.1\r\nHost: localhost\r\n\r\n")

    def logged():
        try:
            with open(tls.access_log, "rb") as f:
                return [l for l in f.read().splitlines() if b'" 400 ' in l]
        except FileNotFoundError:
            return []

    lines = ghtest.wait_for(logged, timeout=5)
    assert lines, "no 400 in the access log"
    assert lines[-1].startswith(b"127.0.0.1 "), lines[-1]
    assert "400 plain HTTP request to a TLS listener" in tls.stderr()
