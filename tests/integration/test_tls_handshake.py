# SPDX-License-Identifier: MIT
"""The TLS handshake as openssl s_client sees it: certificate choice by SNI, ALPN, protocol
versions, session resumption; and handshakes that never finish (garbage, slowloris)."""
import socket
import time

import pytest

from conftest import _Factories
from ghtest import build
import tlsutil

REQUEST = b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls-handshake")
    f = _Factories(tmp)
    try:
        certs = tlsutil.Certs(str(tmp))
        backend = f.backend()
        gh = f.gatehouse(tlsutil.tls_stack_config(f, backend, certs,
                                                  timeouts={"client_header": "1s"}))
    except BaseException:
        f.teardown()
        raise
    gh.certs = certs
    yield gh
    f.teardown()


@pytest.mark.parametrize("name, cn, bits", [
    ("other.test", "other.test", 2048),      # RSA, by its exact name
    ("a.wild.test", "other.test", 2048),     # by the wildcard
    ("localhost", "default.test", 256),      # ECDSA
    ("unknown.test", "default.test", 256),   # no match: the first certificate
    (None, "default.test", 256),             # no SNI at all
])
def test_sni_picks_the_certificate(tls, name, cn, bits):
    args = ["-servername", name] if name else ["-noservername"]
    rc, out = tlsutil.s_client(tls, *args)
    assert tlsutil.peer_cn(out) == cn, out
    assert "Server public key is %d bit" % bits in out


@pytest.mark.parametrize("offer, chosen", [("http/1.1", "http/1.1"), ("h2", "h2"),
                                           ("h2,http/1.1", "h2"), ("spdy/3", None)])
def test_alpn(tls, offer, chosen):
    rc, out = tlsutil.s_client(tls, "-alpn", offer)
    if chosen:
        assert "ALPN protocol: %s" % chosen in out, out
    else:
        assert "No ALPN negotiated" in out, out


def test_http1_with_alpn_http11(tls):
    rc, out = tlsutil.s_client(tls, "-alpn", "http/1.1", "-ign_eof", stdin=REQUEST)
    assert "HTTP/1.1 200 OK" in out, out


def test_tls_1_1_is_refused(tls):
    rc, out = tlsutil.s_client(tls, "-tls1_1")
    assert rc != 0
    assert "Cipher is (NONE)" in out or "alert protocol version" in out, out
    assert "HTTP/1.1" not in out


def test_tls_1_2_works(tls):
    rc, out = tlsutil.s_client(tls, "-tls1_2", "-ign_eof", stdin=REQUEST)
    assert "New, TLSv1.2" in out, out
    assert "HTTP/1.1 200 OK" in out


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_a_session_is_resumed_from_its_ticket(tls, tmp_path, version):
    sess = str(tmp_path / "session.pem")
    rc, out = tlsutil.s_client(tls, version, "-sess_out", sess, "-ign_eof", stdin=REQUEST)
    assert "HTTP/1.1 200 OK" in out, out
    rc, out = tlsutil.s_client(tls, version, "-sess_in", sess, "-ign_eof", stdin=REQUEST)
    assert "Reused," in out, out
    assert "HTTP/1.1 200 OK" in out


def test_handshakes_that_stall_are_cut_at_client_header(tls):
    host, port = tlsutil.https_addr(tls)
    t0 = time.monotonic()
    # (A silent connection never gets this far: TCP_DEFER_ACCEPT keeps it in the kernel.)
    slow = socket.create_connection((host, port), timeout=5)
    slow.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
    trickle = socket.create_connection((host, port), timeout=5)
    # A client that trickles its ClientHello, a byte every 200 ms, does not extend the deadline.
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40
    closed_at = {}
    i = 0
    while len(closed_at) < 2 and time.monotonic() - t0 < 5:
        for name, s in (("slow", slow), ("trickle", trickle)):
            if name in closed_at:
                continue
            try:
                if name == "trickle" and i < len(hello):
                    s.sendall(hello[i:i + 1])
                s.settimeout(0.01)
                if s.recv(4096) == b"":
                    closed_at[name] = time.monotonic() - t0
            except socket.timeout:
                pass
            except (ConnectionResetError, BrokenPipeError):
                closed_at[name] = time.monotonic() - t0
        i += 1
        time.sleep(0.2)
    assert set(closed_at) == {"slow", "trickle"}, closed_at
    for name, t in closed_at.items():
        assert 0.8 <= t < 3.5, (name, t)
    # Meanwhile and afterwards, real clients are served.
    rc, out = tlsutil.s_client(tls, "-ign_eof", stdin=REQUEST)
    assert "HTTP/1.1 200 OK" in out


def test_a_handshake_then_a_slow_head_is_cut_at_client_header(tls):
    """client_header covers the handshake and the first head together."""
    c = tlsutil.tls_connect(tls, tls.certs)
    t0 = time.monotonic()
    c.send(b"GET /echo HTTP/1.1\r\n")
    assert c.closed_within(3.5)
    assert time.monotonic() - t0 < 3.5
    c = tlsutil.tls_connect(tls, tls.certs)
    assert c.exchange(build("GET", "/echo")).status == 200
    c.close()
