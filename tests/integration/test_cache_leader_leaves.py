# SPDX-License-Identifier: MIT
"""A client that leads a cache fill and goes away mid-body does not cut the clients coalesced on
it: the fill goes on without it, is stored whole, and later requests are hits."""
import threading

import ghtest
from ghtest import backend_mod

SIZE = 2_000_000
# Slow enough (64 KiB every 50 ms: about 1.5 s) that the leader leaves long before the end.
TARGET = "/bytes/%d?chunk=65536&pause=0.05&tag=leader" % SIZE


def _stack(factory):
    backend = factory.backend()
    cfg = factory.config([backend.address], workers=1,
                         cache={"memory": "64MiB", "status_header": "X-Cache"},
                         rules=[{"name": "default", "pool": "app", "cache": {"ttl": "60s"}}])
    return backend, factory.gatehouse(cfg)


def _requests_for(backend, tag):
    return sum(1 for e in backend.stats()["log"] if tag in e["target"])


def _leave_after_some_body(gh, target, how):
    """Sends |target|, reads the head and a little of the body, then leaves."""
    c = gh.connect()
    c.send(ghtest.build(target=target))
    s = c.sock
    got = b""
    while b"\r\n\r\n" not in got or len(got) < 100_000:
        chunk = s.recv(65536)
        assert chunk, "gatehouse closed before the body began"
        got += chunk
    how(s)
    return got


def test_a_waiter_gets_the_whole_body_when_the_leader_closes(factory):
    backend, gh = _stack(factory)
    results = {}
    head_seen = threading.Event()

    def waiter():
        assert head_seen.wait(10)
        results["r"] = ghtest.request(gh, target=TARGET)

    t = threading.Thread(target=waiter)
    t.start()
    got = _leave_after_some_body(gh, TARGET, lambda s: (head_seen.set(), s.close()))
    assert got.startswith(b"HTTP/1.1 200")
    t.join(30)
    r = results["r"]
    assert r.status == 200
    assert r.body == backend_mod.pattern_bytes(SIZE)  # whole: the fill went on without the leader
    # Stored whole: the next request is a hit, and the backend was asked once in all.
    again = ghtest.request(gh, target=TARGET)
    assert again.header("x-cache") == "HIT"
    assert again.body == backend_mod.pattern_bytes(SIZE)
    assert _requests_for(backend, "tag=leader") == 1


def test_a_fill_whose_only_client_left_is_still_stored(factory):
    backend, gh = _stack(factory)
    target = TARGET.replace("tag=leader", "tag=alone")
    _leave_after_some_body(gh, target, lambda s: s.close())
    # The object becomes a hit once the backend's body is all in (about 1.5 s).
    assert ghtest.wait_for(
        lambda: ghtest.request(gh, target=target, headers=[("Cache-Control", "only-if-cached")])
        .status == 200, timeout=15)
    r = ghtest.request(gh, target=target)
    assert r.header("x-cache") == "HIT"
    assert r.body == backend_mod.pattern_bytes(SIZE)
    assert _requests_for(backend, "tag=alone") == 1
