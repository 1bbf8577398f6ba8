# SPDX-License-Identifier: MIT
"""Connections over limits.max_connections_per_client or limits.max_connections are counted,
logged (at most one line a second, each telling how many were refused since the last) and, as
nginx's limit_conn does, answered 503 with Connection: close once their request head is in. Only
a few such answers are under way at once: past them, over-limit connections are closed at once."""
import re
import select
import time

import pytest

import ghtest
from ghtest import build, wait_for

LINE = re.compile(r"\[warn\] worker\[\d+\]: client 127\.0\.0\.1 on http: connection over "
                  r"limits\.(max_connections_per_client|max_connections) \((\d+)\): (.*); "
                  r"(\d+) more refused since the last such line, (\d+) in all$")


def refusal_lines(gh):
    return [m for m in (LINE.search(l) for l in gh.stderr_lines) if m]


def held(gh, n):
    """|n| connections that each had a request answered and stay open (keep-alive)."""
    conns = []
    for _ in range(n):
        c = gh.connect()
        c.send(build("GET", "/echo"))
        assert c.response().status == 200
        conns.append(c)
    return conns


def over_limit_request(gh):
    c = gh.connect()
    try:
        c.send(build("GET", "/over"))
        r = c.response()
        assert c.closed_within()
        return r
    finally:
        c.close()


@pytest.mark.parametrize("limits,name", [
    ({"max_connections_per_client": 2}, "max_connections_per_client"),
    ({"max_connections": 2}, "max_connections"),
])
def test_a_connection_over_the_limit_gets_a_503_and_one_log_line(factory, backend, tmp_path,
                                                                 limits, name):
    log = str(tmp_path / "access.log")
    gh = factory.gatehouse(factory.config([backend.address], workers=1, limits=limits,
                                          access_log={"path": log, "format": "combined"}))
    conns = held(gh, 2)
    r = over_limit_request(gh)
    assert r.status == 503 and r.header("connection") == "close", r
    assert wait_for(lambda: refusal_lines(gh))
    lines = refusal_lines(gh)
    assert len(lines) == 1, gh.stderr()
    m = lines[0]
    assert (m.group(1), m.group(2), m.group(3)) == (name, "2", "answering 503")
    assert (m.group(4), m.group(5)) == ("0", "1")
    assert not [l for l in gh.stderr_lines if "503" in l and "/over" in l], gh.stderr()
    assert wait_for(lambda: b'"GET /over HTTP/1.1" 503 ' in open(log, "rb").read())

    # A burst: each one answered, the log lines account for every refusal.
    for _ in range(10):
        assert over_limit_request(gh).status == 503
    time.sleep(1.1)  # the next second: a new line may be written
    assert over_limit_request(gh).status == 503
    # The twelfth came in a later second than any line before it: it has its line.
    assert wait_for(lambda: refusal_lines(gh)[-1].group(5) == "12"), gh.stderr()
    lines = refusal_lines(gh)
    assert 2 <= len(lines) <= 4, gh.stderr()
    assert sum(1 + int(m.group(4)) for m in lines) == 12

    # The connections under the limit were never disturbed, and a freed place serves again.
    for c in conns:
        c.send(build("GET", "/echo"))
        assert c.response().status == 200
    conns[0].close()
    assert wait_for(lambda: ghtest.request(gh).status == 200)
    conns[1].close()


def test_past_a_few_at_once_over_limit_connections_are_closed(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          limits={"max_connections_per_client": 1}))
    keep = held(gh, 1)
    waiting = []
    for _ in range(40):  # each sends half a head: it holds its place until the deadline
        c = gh.connect()
        c.send(b"GET /slow HTTP/1.1\r\n")
        waiting.append(c)
    closed = set()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        socks = [c.sock for c in waiting if c.sock not in closed]
        ready, _, _ = select.select(socks, [], [], max(0.0, deadline - time.monotonic()))
        for s in ready:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            assert data == b"", data  # closed without an answer
            closed.add(s)
    assert len(closed) == 40 - 32
    # The others get their answer at the short deadline (the head never completed: 408).
    for c in waiting:
        if c.sock in closed:
            continue
        r = c.response()
        assert r.status == 408
    for c in waiting + keep:
        c.close()
    assert refusal_lines(gh)
    assert wait_for(lambda: ghtest.request(gh).status == 200)


def test_over_tls_the_503_comes_after_the_handshake(factory, backend, tmp_path):
    import tlsutil
    certs = tlsutil.Certs(str(tmp_path))
    gh = factory.gatehouse(tlsutil.tls_stack_config(
        factory, backend, certs, limits={"max_connections_per_client": 1}))
    first = tlsutil.tls_connect(gh, certs)
    first.send(build("GET", "/echo"))
    assert first.response().status == 200
    c = tlsutil.tls_connect(gh, certs)
    c.send(build("GET", "/over"))
    r = c.response()
    assert r.status == 503 and r.header("connection") == "close"
    c.close()
    # An HTTP/2 client over the limit gets its 503 on the stream, then the GOAWAY.
    import h2raw
    import hpack
    h2 = tlsutil.tls_connect(gh, certs, alpn=("h2",))
    h2.send(h2raw.PREFACE + h2raw.settings() + h2raw.headers(1, h2raw.request_block("/over")))
    status, goaway = None, False
    h2.sock.settimeout(5)
    buf = b""
    deadline = time.monotonic() + 5
    while (status is None or not goaway) and time.monotonic() < deadline:
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            ftype, payload = buf[3], buf[9:9 + n]
            buf = buf[9 + n:]
            if ftype == h2raw.HEADERS:
                status = dict(hpack.Decoder().decode(payload)).get(":status")
            goaway = goaway or ftype == h2raw.GOAWAY
        if status is not None and goaway:
            break
        data = h2.sock.recv(65536)
        if not data:
            break
        buf += data
    assert status == "503" and goaway, (status, goaway)
    h2.close()
    first.close()



def test_an_h2c_client_over_the_limit_gets_503_and_gives_its_place_back(factory, backend):
    import h2raw
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          limits={"max_connections_per_client": 2}))
    if not h2raw.h2c_supported(gh):
        pytest.skip("no h2c on the plain listener")
    conns = held(gh, 2)
    # More than the 32 over-limit connections a loop answers at once: each gives its place back.
    for _ in range(40):
        r = ghtest.curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                        gh.url("/over"), timeout=10)
        assert r.stdout == b"503", (r.stdout, r.stderr)
    # The places under the limit were never given away twice: still exactly two.
    for c in conns:
        c.send(build("GET", "/echo"))
        assert c.response().status == 200
    assert over_limit_request(gh).status == 503
    for c in conns:
        c.close()
    assert wait_for(lambda: ghtest.request(gh).status == 200)
