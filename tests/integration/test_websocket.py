# SPDX-License-Identifier: MIT
"""WebSocket through gatehouse (HTTP/1.1, plain and TLS): the handshake passes to the backend, a
101 turns both connections into a byte tunnel with backpressure, half-close and the client_idle
limit; anything else to an upgrade request is an ordinary response."""
import base64
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import threading
import time

import pytest

from ghtest import build, header_values, is_error_response, request
from test_buffering import total_rss_kib
import ghtest
import tlsutil

MiB = 1 << 20


def handshake_request(target="/ws", extra=(), key=None, connection="Upgrade"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    return key, build("GET", target, [("Connection", connection), ("Upgrade", "websocket"),
                                      ("Sec-WebSocket-Version", "13"),
                                      ("Sec-WebSocket-Key", key), *extra])


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                            .digest()).decode()


def open_tunnel(c, target="/ws", extra=(), trailing=b""):
    """Sends a handshake (and |trailing| bytes in the same write); returns the 101's Response."""
    key, req = handshake_request(target, extra, connection="Upgrade, X-Private")
    c.send(req + trailing)
    version, status, reason, headers, raw = c.head()
    r = ghtest.Response(version, status, reason, headers, b"", True, raw)
    assert status == 101, r
    assert r.tokens("connection") == ["upgrade"] and r.tokens("upgrade") == ["websocket"], r
    assert r.header("sec-websocket-accept") == accept_for(key)
    assert not r.has("content-length") and not r.has("transfer-encoding")
    return r


def read_exact(c, n, timeout=ghtest.TIMEOUT):
    out = bytearray()
    c.sock.settimeout(timeout)
    while len(out) < n:
        if c.buf:
            take = min(n - len(out), len(c.buf))
            out += c.buf[:take]
            del c.buf[:take]
            continue
        c._fill()
    return bytes(out)


def read_line(c):
    while b"\n" not in c.buf:
        c._fill()
    i = c.buf.index(b"\n")
    line = bytes(c.buf[:i])
    del c.buf[:i + 1]
    return line


def read_to_eof(c, timeout=ghtest.TIMEOUT):
    out = bytearray(c.buf)
    c.buf.clear()
    c.sock.settimeout(timeout)
    while True:
        data = c.sock.recv(65536)
        if not data:
            return bytes(out)
        out += data


@pytest.fixture
def ws(factory):
    backend = factory.backend()
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          timeouts={"client_idle": "2s"}))
    gh.backend = backend
    return gh


def test_handshake_reaches_the_backend_and_bytes_flow_both_ways(ws):
    c = ws.connect()
    # The backend's greeting comes in the same write as its 101 head, the client's first bytes in
    # the same write as its handshake: neither may be lost.
    open_tunnel(c, "/ws?greet=1", extra=[("X-Private", "1"),
                                         ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
                                         ("Sec-WebSocket-Protocol", "actioncable-v1-json")],
                trailing=b"early bytes|")
    greeting = json.loads(read_line(c))
    assert greeting["method"] == "GET" and greeting["target"] == "/ws?greet=1"
    seen = {"headers": greeting["headers"]}
    assert [v.lower() for v in header_values(seen, "connection")] == ["upgrade"]
    assert header_values(seen, "upgrade") == ["websocket"]
    assert header_values(seen, "sec-websocket-version") == ["13"]
    assert len(header_values(seen, "sec-websocket-key")) == 1
    assert header_values(seen, "sec-websocket-protocol") == ["actioncable-v1-json"]
    for hop in ("x-private", "keep-alive", "te"):
        assert header_values(seen, hop) == [], hop
    assert read_exact(c, 12) == b"early bytes|"
    for msg in (b"hello", b"\x00\xff" * 1000, b"x"):
        c.send(msg)
        assert read_exact(c, len(msg)) == msg
    c.close()


def test_a_large_transfer_keeps_memory_bounded(ws):
    n = 24 * MiB
    assert request(ws, target="/echo?warm").status == 200
    rss_before = total_rss_kib(ws)
    c = ws.connect(rcvbuf=65536)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    open_tunnel(c, "/ws")
    data = os.urandom(n)
    sent = [0]

    def send():
        view = memoryview(data)
        while sent[0] < n:
            k = c.sock.send(view[sent[0]:sent[0] + 65536])
            sent[0] += k

    t = threading.Thread(target=send, daemon=True)
    t.start()
    # Nobody reads for a while: the echo backs up through gatehouse to the sender, which stalls.
    peak = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        peak = max(peak, total_rss_kib(ws) - rss_before)
        time.sleep(0.05)
    # (Loopback sockets may buffer tens of MiB themselves: what gatehouse holds is its RSS.)
    h = hashlib.sha256()
    got = 0
    c.sock.settimeout(ghtest.TIMEOUT)
    while got < n:
        chunk = c.sock.recv(1 << 20)
        assert chunk, "tunnel closed after %d bytes" % got
        h.update(chunk)
        got += len(chunk)
        if got % (4 * MiB) < len(chunk):
            peak = max(peak, total_rss_kib(ws) - rss_before)
    t.join(10)
    assert got == n and h.digest() == hashlib.sha256(data).digest()
    print("worker RSS growth: %d KiB" % peak)
    if not ghtest.sanitized_build():
        assert peak < 8 * 1024, "worker RSS grew by %d KiB for a 24 MiB echo" % peak
    c.close()


def test_idle_tunnel_is_closed_after_client_idle(factory):
    backend = factory.backend()
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          timeouts={"client_idle": "1s"}))
    c = gh.connect()
    open_tunnel(c)
    # Traffic keeps it open past the limit.
    for _ in range(3):
        time.sleep(0.5)
        c.send(b"ping")
        assert read_exact(c, 4) == b"ping"
    start = time.monotonic()
    assert c.closed_within(6)
    took = time.monotonic() - start
    assert 0.8 <= took <= 3.5, took
    c.close()


def test_half_close_ends_one_direction_and_the_other_goes_on(ws):
    c = ws.connect()
    open_tunnel(c, "/ws?after_eof=after-your-end")
    c.send(b"last words")
    c.sock.shutdown(socket.SHUT_WR)
    # The backend sees the end only after the bytes before it, and still sends after it.
    assert read_to_eof(c) == b"last words" + b"after-your-end"
    c.close()


def test_a_101_to_a_request_that_did_not_ask_is_a_502(ws):
    r = request(ws, target="/ws?force=1")
    assert is_error_response(r, 502)


def test_a_101_for_another_protocol_is_a_502(ws):
    c = ws.connect()
    # Asked for h2c, which gatehouse does not pass: the backend's forced 101 is refused.
    c.send(build("GET", "/ws?force=1", [("Connection", "Upgrade"), ("Upgrade", "h2c")]))
    r = c.response()
    assert is_error_response(r, 502)
    c.close()


def test_a_101_switching_to_another_protocol_than_asked_is_a_502(ws):
    c = ws.connect()
    key, req = handshake_request("/ws?proto=h2c")
    c.send(req)
    assert is_error_response(c.response(), 502)
    c.close()


def test_an_open_tunnel_outlives_a_reload(factory):
    backend = factory.backend()
    cfg = factory.config([backend.address], workers=1)
    gh = factory.gatehouse(cfg)
    c = gh.connect()
    open_tunnel(c)
    c.send(b"before")
    assert read_exact(c, 6) == b"before"
    gh.write_config(factory.config([backend.address], workers=1,
                                   timeouts={"client_idle": "30s"}))
    os.kill(gh.pid, signal.SIGHUP)
    assert ghtest.wait_for(lambda: len(gh.workers()) >= 2 or
                           any("generation 1 serving" in l for l in gh.stderr_lines), timeout=5)
    # New requests go to the new worker; the old one keeps relaying until the tunnel ends.
    assert request(gh, target="/echo?after").status == 200
    c.send(b"after")
    assert read_exact(c, 5) == b"after"
    c.close()


def test_a_refused_upgrade_passes_through_as_a_normal_response(ws):
    c = ws.connect()
    c.send(build("GET", "/echo?first"))
    pooled = c.response().json()["connection"]["id"]
    key, req = handshake_request("/ws?status=400")
    c.send(req)
    r = c.response()
    assert r.status == 400 and r.body == b"no websocket here\n"
    assert not r.has("upgrade")
    # The client's connection is still HTTP and serves the next request.
    c.send(build("GET", "/echo?next"))
    r = c.response()
    assert r.status == 200 and r.json()["target"] == "/echo?next"
    # The backend connection that carried the upgrade request was not pooled again.
    assert r.json()["connection"]["id"] != pooled
    c.close()


def test_an_upgrade_request_is_never_sent_twice(factory):
    backends = [factory.backend(name="b%d" % i) for i in range(2)]
    gh = factory.gatehouse(factory.config([b.address for b in backends], workers=1,
                                          pools={"app": {"retries": 1}}))
    for _ in range(2):  # a pooled connection to each server
        assert request(gh, target="/echo?warm").status == 200
    for _ in range(2):
        c = gh.connect()
        key, req = handshake_request("/ws?drop=1")
        c.send(req)
        r = c.response()
        assert is_error_response(r, 502)
        c.close()
    # Neither a closed pooled connection nor a retry on the other server sent it again.
    seen = sum(1 for b in backends for e in b.stats()["log"] if e["target"] == "/ws?drop=1")
    assert seen == 2


def test_upgrade_on_a_request_with_a_body_is_not_passed(ws):
    # RFC 9110 7.8: the switch could only come after the body; gatehouse forwards the request as
    # an ordinary one (Upgrade is hop-by-hop), as it does for protocols other than websocket.
    for method, body, upgrade in (("POST", b"abc", "websocket"), ("GET", None, "h2c")):
        r = request(ws, method, "/echo", [("Connection", "Upgrade"), ("Upgrade", upgrade)], body)
        assert r.status == 200
        echo = r.json()
        assert header_values(echo, "upgrade") == [], method
        assert header_values(echo, "connection") == [], method


def test_websocket_over_tls(factory, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    backend = factory.backend()
    gh = factory.gatehouse(tlsutil.tls_stack_config(factory, backend, certs))
    c = tlsutil.tls_connect(gh, certs)
    open_tunnel(c, "/ws?greet=1", trailing=b"first")
    greeting = json.loads(read_line(c))
    assert header_values(greeting, "x-forwarded-proto") == ["https"]
    assert read_exact(c, 5) == b"first"
    # One thread for both directions: an ssl.SSLSocket (one OpenSSL SSL object) must not be
    # written by one thread while another reads it (see tls_echo).
    data = os.urandom(3 * MiB)
    assert tls_echo(c, data) == data
    c.close()


def tls_echo(c, data, pause_reading_s=0.0):
    """Sends |data| through the tunnel on |c| (a TLS client) and reads the echo, both from this
    one thread over a non-blocking socket. A sender thread beside a reading one shares the SSL
    object, which OpenSSL does not allow: their SSL_get_error calls see each other's state, so now
    and then the reader takes a spurious EOF (and closes) or the sender dies or waits on the
    wrong readiness (and the tunnel idles out). The echo is not read at all for the first
    |pause_reading_s| seconds, so both directions back up and gatehouse has to resume them.
    Returns the echo."""
    s = c.sock
    s.setblocking(False)
    out = bytearray(c.buf)
    c.buf.clear()
    view = memoryview(data)
    sent = 0
    start = time.monotonic()
    deadline = start + 30
    while len(out) < len(data):
        now = time.monotonic()
        assert now < deadline, "stalled: %d of %d bytes sent, %d echoed" % (
            sent, len(data), len(out))
        reading = now - start >= pause_reading_s
        progress = False
        if sent < len(data):
            try:
                sent += s.send(view[sent:sent + 65536])
                progress = True
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
        if reading:
            try:
                chunk = s.recv(1 << 20)
                assert chunk, "tunnel closed after %d bytes echoed" % len(out)
                out += chunk
                progress = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
        if not progress:
            want_read = [s] if reading else []
            want_write = [s] if sent < len(data) else []
            select.select(want_read, want_write, [], 0.05)
    return bytes(out)


def test_websocket_over_tls_resumes_after_backpressure(factory, tmp_path):
    # Small socket buffers and an echo nobody reads for a while: both directions hit the tunnel's
    # limit and the sender stalls; when the reader comes back every side must be resumed,
    # including reads that stopped with bytes OpenSSL already holds (no socket edge announces
    # those).
    certs = tlsutil.Certs(str(tmp_path))
    backend = factory.backend()
    gh = factory.gatehouse(tlsutil.tls_stack_config(factory, backend, certs))
    c = tlsutil.tls_connect(gh, certs)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    open_tunnel(c, "/ws")
    data = os.urandom(8 * MiB)
    assert tls_echo(c, data, pause_reading_s=0.5) == data
    c.close()
