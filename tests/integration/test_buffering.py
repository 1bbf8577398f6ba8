# SPDX-License-Identifier: MIT
"""Slow clients never hold a backend: responses are read ahead (memory, then a temporary file)
and request bodies are received whole; `X-Accel-Buffering: no` and `buffering: off` stream with
backpressure instead."""
import os
import time

import pytest

from ghtest import Raw, assert_echoed, backend_mod, build, request, sanitized_build, wait_for

MiB = 1 << 20


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def total_rss_kib(gh):
    return sum(rss_kib(p) for p in gh.workers())


def test_slow_client_does_not_hold_the_backend(factory, backend):
    n = 64 * MiB
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          buffering={"response_memory": "64KiB",
                                                     "temp_path": str(factory.tmpdir)}))
    assert request(gh).status == 200  # warm up: worker started, pool connected
    rss_before = total_rss_kib(gh)
    c = gh.connect(rcvbuf=65536)
    c.send(build("GET", "/bytes/%d?tag=slow" % n))
    # The client reads nothing; the backend still gets to write all of it.
    entry = wait_for(lambda: (lambda e: e if e and e["finished"] else None)(
        backend.entry("tag=slow")), timeout=20, interval=0.1)
    assert entry, "backend still writing: %r" % backend.entry("tag=slow")
    grown = total_rss_kib(gh) - rss_before
    if not sanitized_build():  # ASan's quarantine keeps freed memory resident
        assert grown < 24 * 1024, "worker RSS grew by %d KiB for a spilled response" % grown
    # And its connection is free again soon: reused from the pool, or closed.
    def released():
        if entry["conn_id"] not in backend.stats()["open_connections"]:
            return True
        return request(gh).json()["connection"]["id"] == entry["conn_id"]
    assert wait_for(released, timeout=5, interval=0.2), "backend connection still held"
    # Now the client drains everything, intact.
    r = c.response(keep_body=False)
    c.close()
    assert r.status == 200 and r.complete
    assert r.length == n and r.sha256 == backend_mod.pattern_sha256(n)


def _bytes_sent(backend, tag):
    e = backend.entry(tag)
    return e["bytes_sent"] if e else 0


def _stalled(backend, tag, timeout=15):
    """Waits until the backend's progress stops for 1 s; returns the bytes it got to send."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        now = _bytes_sent(backend, tag)
        if now == last:
            return now
        last = now
        time.sleep(1.0)
    return None


@pytest.mark.parametrize("how", ["header", "rule"])
def test_streaming_response_follows_the_client_pace(factory, backend, how):
    n = 1024 * MiB
    over = {}
    query = "sndbuf=65536&tag=stream-%s" % how
    if how == "header":
        query += "&stream=1"
    else:
        over["rules"] = [{"name": "git", "match": {"path_prefix": "/bytes/"}, "pool": "app",
                          "buffering": Raw("off")},
                         {"name": "default", "pool": "app"}]
    gh = factory.gatehouse(factory.config([backend.address], workers=1, **over))
    c = gh.connect(rcvbuf=65536)
    c.send(build("GET", "/bytes/%d?%s" % (n, query)))
    version, status, _, headers, _ = c.head()
    assert status == 200
    assert not any(h.lower() == "x-accel-buffering" for h, _ in headers)
    got = 0
    while got < MiB:  # read a little, then stop
        chunk = c.sock.recv(65536)
        assert chunk
        got += len(chunk)
    stalled = _stalled(backend, "tag=stream-%s" % how)
    assert stalled is not None, "backend never stopped: the proxy reads ahead without bound"
    assert stalled < 64 * MiB, "proxy read %d MiB ahead of a stopped client" % (stalled >> 20)
    # The client reads on: the backend moves again.
    target = got + 128 * MiB
    while got < target:
        chunk = c.sock.recv(1 << 20)
        assert chunk
        got += len(chunk)
    assert wait_for(lambda: _bytes_sent(backend, "tag=stream-%s" % how) > stalled + 64 * MiB,
                    timeout=5)
    # The client goes away: the backend is not left writing into the void.
    c.close()
    assert wait_for(lambda: backend.entry("tag=stream-%s" % how)["aborted"], timeout=5)


def test_request_body_is_received_whole_before_the_backend_request(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address],
                                          buffering={"request_memory": "64KiB",
                                                     "temp_path": str(factory.tmpdir)}))
    body = os.urandom(5 * MiB)
    before = backend.stats()["requests"]
    c = gh.connect()
    c.send(b"POST /echo?whole HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
    c.send(body[:len(body) // 2])
    time.sleep(0.5)
    assert backend.stats()["requests"] == before, "backend request started before the body was in"
    c.send(body[len(body) // 2:])
    r = c.response()
    c.close()
    assert r.status == 200
    assert_echoed(r.json(), body)
