# SPDX-License-Identifier: MIT
"""HTTP/1.1 over TLS: what curl and a Python TLS client see through a `tls:` listener (bodies
both ways, keep-alive, pipelining, X-Forwarded-Proto, close_notify), and the hand-over of HTTP/2
connections (ALPN h2, h2c prior knowledge on a plain listener)."""
import hashlib
import json
import os
import socket
import ssl
import time

import pytest

from conftest import _Factories
from ghtest import backend_mod, build, chunked, header_values, wait_for
import tlsutil


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """One backend and one gatehouse with a plain and a TLS listener; spill after 64 KiB."""
    tmp = tmp_path_factory.mktemp("tls")
    f = _Factories(tmp)
    try:
        certs = tlsutil.Certs(str(tmp))
        backend = f.backend()
        gh = f.gatehouse(tlsutil.tls_stack_config(
            f, backend, certs, buffering={"temp_path": str(tmp), "response_memory": "64KiB"}))
    except BaseException:
        f.teardown()
        raise
    gh.certs, gh.tmp, gh.backend = certs, tmp, backend
    yield gh
    f.teardown()


def test_curl_gets_a_page_over_https_and_the_backend_sees_https(tls):
    out = tlsutil.curl_https(tls, tls.certs, "/echo", "-H", "X-Forwarded-Proto: http")
    assert out.returncode == 0, out.stderr
    echo = json.loads(out.stdout)
    assert header_values(echo, "x-forwarded-proto") == ["https"]
    assert header_values(echo, "host") == ["localhost:%d" % tlsutil.https_addr(tls)[1]]


def test_the_plain_listener_still_says_http(tls):
    c = tls.connect("http")
    r = c.exchange(build("GET", "/echo"))
    c.close()
    assert header_values(r.json(), "x-forwarded-proto") == ["http"]


def test_a_large_body_arrives_whole_over_https(tls):
    n = 12 << 20
    out = tlsutil.curl_https(tls, tls.certs, "/bytes/%d" % n)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) == n
    assert hashlib.sha256(out.stdout).hexdigest() == backend_mod.pattern_sha256(n)


def test_a_body_spilled_to_the_temporary_file_arrives_whole_over_https(tls):
    n = 6 << 20
    c = tlsutil.tls_connect(tls, tls.certs)
    c.send(build("GET", "/bytes/%d?tag=spill" % n))
    # The client waits: the backend's response goes past response_memory into the spill file.
    assert wait_for(lambda: tlsutil.spill_files(tls, tls.tmp)), "nothing spilled"
    r = c.response(keep_body=False)
    c.close()
    assert r.status == 200 and r.complete
    assert r.length == n and r.sha256 == backend_mod.pattern_sha256(n)


def test_post_bodies_reach_the_backend_whole(tls):
    c = tlsutil.tls_connect(tls, tls.certs)
    for body in (b"", b"x", os.urandom(100000), os.urandom(3 << 20)):
        r = c.exchange(build("POST", "/echo", body=body))
        assert r.status == 200
        echo = r.json()
        assert echo["body_length"] == len(body)
        assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    body = os.urandom(300000)
    r = c.exchange(b"PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   chunked(body))
    c.close()
    assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_curl_posts_with_expect_100_continue(tls):
    path = os.path.join(str(tls.tmp), "upload.bin")
    data = os.urandom(2 << 20)
    with open(path, "wb") as f:
        f.write(data)
    out = tlsutil.curl_https(tls, tls.certs, "/echo", "-H", "Expect: 100-continue",
                             "--data-binary", "@" + path)
    assert out.returncode == 0, out.stderr
    echo = json.loads(out.stdout)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_keep_alive_reuses_one_tls_connection(tls):
    c = tlsutil.tls_connect(tls, tls.certs)
    for i in range(5):
        r = c.exchange(build("GET", "/bytes/%d" % (1000 * (i + 1))))
        assert r.status == 200 and r.body == backend_mod.pattern_bytes(1000 * (i + 1))
    c.close()


def test_curl_reuses_its_connection(tls):
    host, port = tlsutil.https_addr(tls)
    out = tlsutil.curl_https(tls, tls.certs, "/echo", "-v", "-o", "/dev/null",
                             "https://localhost:%d/bytes/10" % port)
    assert out.returncode == 0, out.stderr
    assert b"Re-using existing connection" in out.stderr


def test_pipelined_requests_are_answered_in_order_over_tls(tls):
    c = tlsutil.tls_connect(tls, tls.certs)
    body = os.urandom(50000)
    c.send(build("GET", "/bytes/70000") + build("POST", "/echo", body=body) +
           build("GET", "/echo?third") + build("HEAD", "/bytes/5"))
    assert c.response().body == backend_mod.pattern_bytes(70000)
    assert c.response().json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert c.response().json()["target"] == "/echo?third"
    assert c.response(method="HEAD").header("content-length") == "5"
    c.close()


def test_a_burst_larger_than_the_head_buffer_is_not_stuck_in_openssl(tls):
    """More pipelined requests than one read takes: the rest waits decrypted inside OpenSSL with
    no new socket event, and must still be answered."""
    c = tlsutil.tls_connect(tls, tls.certs)
    pad = "p" * 400
    n = 150
    c.send(b"".join(build("GET", "/echo?i=%d" % i, headers=[("X-Pad", pad)]) for i in range(n)))
    for i in range(n):
        r = c.response()
        assert r.status == 200 and r.json()["target"] == "/echo?i=%d" % i
    c.close()


def test_connection_close_ends_with_close_notify(tls):
    c = tlsutil.tls_connect(tls, tls.certs, ragged_eofs=False)
    r = c.exchange(build("GET", "/echo", close=True))
    assert r.status == 200
    # A close without close_notify would raise SSLEOFError here.
    assert c.sock.recv(100) == b""
    c.close()


def test_a_client_sending_garbage_is_closed_and_others_are_served(tls):
    host, port = tlsutil.https_addr(tls)
    bad = socket.create_connection((host, port), timeout=5)
    bad.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    good = tlsutil.tls_connect(tls, tls.certs)
    assert good.exchange(build("GET", "/echo")).status == 200
    bad.settimeout(5)
    try:
        while bad.recv(4096):
            pass
    except ConnectionResetError:
        pass
    bad.close()
    assert good.exchange(build("GET", "/echo")).status == 200
    good.close()


def _not_http1(sock):
    """Whatever the HTTP/2 side answers (frames, or a close), it is not an HTTP/1.1 response."""
    sock.settimeout(3)
    try:
        data = sock.recv(4096)
    except (ConnectionResetError, socket.timeout, ssl.SSLError):
        data = b""
    return not data.startswith(b"HTTP/1")


def test_alpn_h2_goes_to_http2(tls):
    c = tlsutil.tls_connect(tls, tls.certs, alpn=("h2",))
    assert c.sock.selected_alpn_protocol() == "h2"
    c.send(tlsutil.H2_PREFACE + tlsutil.EMPTY_SETTINGS)
    assert _not_http1(c.sock)
    c.close()


@pytest.mark.parametrize("split", [None, 7, 23])
def test_h2c_prior_knowledge_on_the_plain_listener_goes_to_http2(tls, split):
    c = tls.connect("http")
    data = tlsutil.H2_PREFACE + tlsutil.EMPTY_SETTINGS
    if split:
        c.send(data[:split])
        time.sleep(0.1)
        data = data[split:]
    c.send(data)
    assert _not_http1(c.sock)
    c.close()
    # The loop goes on serving HTTP/1.1.
    c = tls.connect("http")
    assert c.exchange(build("GET", "/echo")).status == 200
    c.close()


def test_the_preface_on_a_tls_connection_without_alpn_stays_http1(tls):
    """RFC 9113 3.3: HTTP/2 over TLS is chosen by ALPN only."""
    c = tlsutil.tls_connect(tls, tls.certs, alpn=())
    c.send(tlsutil.H2_PREFACE)
    r = c.response()
    c.close()
    assert r.version == "HTTP/1.1" and r.status >= 400
