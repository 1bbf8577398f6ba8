# SPDX-License-Identifier: MIT
"""Upstream side: failures become 502/504 (or an aborted response), UNIX sockets, routing."""
import shutil
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ghtest import build, free_port, is_error_response, request, backend_mod, wait_for


def test_backend_down_gives_502(factory):
    gh = factory.gatehouse(factory.config(["127.0.0.1:%d" % free_port()]))
    t0 = time.monotonic()
    r = request(gh)
    assert time.monotonic() - t0 < 4
    is_error_response(r, 502)


@pytest.fixture
def full_backlog():
    """A listening socket whose accept queue is full: a connect to it hangs (SYNs dropped)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fillers = []
    for _ in range(16):
        s = socket.socket()
        s.settimeout(0.3)
        fillers.append(s)
        try:
            s.connect(ls.getsockname())
        except (socket.timeout, BlockingIOError):
            break
    else:
        pytest.fail("could not fill the accept queue")
    yield "127.0.0.1:%d" % ls.getsockname()[1]
    for s in fillers:
        s.close()
    ls.close()


def test_backend_connect_timeout_gives_504(factory, full_backlog):
    gh = factory.gatehouse(factory.config([full_backlog],
                                          timeouts={"backend_connect": "500ms"}))
    t0 = time.monotonic()
    r = request(gh)
    elapsed = time.monotonic() - t0
    is_error_response(r, 504)  # "504 backend timed out"
    assert 0.4 <= elapsed < 4, elapsed


def test_silent_backend_gives_504_and_the_backend_connection_is_cut(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address],
                                          timeouts={"backend_response": "500ms"}))
    t0 = time.monotonic()
    r = request(gh, target="/hang")
    elapsed = time.monotonic() - t0
    is_error_response(r, 504)
    assert 0.4 <= elapsed < 4, elapsed
    assert wait_for(lambda: all(e["peer_closed"] for e in backend.stats()["log"]
                                if e["target"] == "/hang"), timeout=3)


def test_slow_but_not_silent_backend_is_waited_for(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address],
                                          timeouts={"backend_response": "1s"}))
    r = request(gh, target="/bytes/100?delay=0.5")
    assert r.status == 200 and r.body == backend_mod.pattern_bytes(100)


@pytest.mark.parametrize("kind", ["status", "garbage", "two-cl"])
def test_malformed_backend_response_gives_502(stack, kind):
    c = stack.gh.connect()
    r = c.exchange(build("GET", "/malformed/%s" % kind))
    is_error_response(r, 502)
    # The client connection goes on, unless the 502 said it would not.
    if "close" in r.tokens("connection"):
        assert c.closed_within(3)
    else:
        r2 = c.exchange(build("GET", "/bytes/5"))
        assert r2.status == 200 and r2.body == backend_mod.pattern_bytes(5)
    c.close()


@pytest.mark.parametrize("kind", ["chunk", "truncated"])
def test_backend_failing_mid_body_aborts_the_client_response(stack, kind):
    c = stack.gh.connect()
    c.send(build("GET", "/malformed/%s" % kind))
    r = c.response()
    c.close()
    if r.status == 502:
        return  # refused before the head was sent: also fine
    assert r.status == 200
    assert not r.complete, "a broken backend body was delivered as a complete response"


def test_bytes_after_a_complete_response_never_reach_the_client(proxy, backend):
    c = proxy.connect()
    r = c.exchange(build("GET", "/malformed/extra"))
    assert r.status == 200 and r.body == b"hello"
    r2 = c.exchange(build("GET", "/echo?after"))
    c.close()
    assert b"SMUGGLED" not in r2.body and r2.status == 200
    echo = r2.json()
    assert echo["query"] == "after"
    extra_conn = backend.entry("/malformed/extra")["conn_id"]
    assert echo["connection"]["id"] != extra_conn, "backend connection with stray bytes was reused"


def test_error_after_502_pool_recovers(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address]))
    assert request(gh, target="/malformed/status").status == 502
    r = request(gh, target="/echo")
    assert r.status == 200 and r.json()["method"] == "GET"


@pytest.fixture
def short_tmp():
    d = tempfile.mkdtemp(prefix="gh-")  # UNIX socket paths must stay short
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_unix_socket_backend(factory, short_tmp):
    b = factory.backend(listen="unix:%s/app.sock" % short_tmp)
    gh = factory.gatehouse(factory.config([b.address]))
    assert b.address.startswith("unix:")
    r = request(gh, "POST", "/echo?u=1", body=b"over a unix socket")
    assert r.status == 200
    echo = r.json()
    assert echo["query"] == "u=1" and echo["body_length"] == 18
    r = request(gh, target="/bytes/1000000?chunked=1")
    assert r.body == backend_mod.pattern_bytes(1000000)


@pytest.fixture
def two_backends(factory):
    return factory.backend(name="a"), factory.backend(name="b")


def test_path_prefix_rule_picks_pool_and_default_takes_the_rest(factory, two_backends):
    a, b = two_backends
    cfg = factory.config([], pools={"a": {"servers": [a.address]}, "b": {"servers": [b.address]}},
                         rules=[{"name": "api", "match": {"path_prefix": "/api/"}, "pool": "a"},
                                {"name": "default", "pool": "b"}])
    cfg["pools"].pop("app", None)
    gh = factory.gatehouse(cfg)
    for target, server in [("/api/x", "a"), ("/api/", "a"), ("/x/../api/y", "a"),
                           ("/apix", "b"), ("/other", "b"), ("/echo", "b")]:
        r = request(gh, target=target)
        assert r.status == 200, target
        assert r.json()["server"] == server, target


def test_no_matching_rule_gives_404(factory, two_backends):
    a, b = two_backends
    cfg = factory.config([], pools={"a": {"servers": [a.address]}},
                         rules=[{"name": "api", "match": {"path_prefix": "/api/"}, "pool": "a"}])
    cfg["pools"].pop("app", None)
    gh = factory.gatehouse(cfg)
    assert request(gh, target="/api/x").json()["server"] == "a"
    before = a.stats()["requests"]
    is_error_response(request(gh, target="/other"), 404)
    assert a.stats()["requests"] == before


def test_round_robin_spreads_requests_over_a_pool(factory, two_backends):
    a, b = two_backends
    gh = factory.gatehouse(factory.config([a.address, b.address], workers=1))
    seen = [request(gh).json()["server"] for _ in range(6)]
    assert seen.count("a") == 3 and seen.count("b") == 3, seen


def test_a_burst_wider_than_keepalive_reuses_its_connections_then_sheds_them(factory, backend):
    # keepalive 1: one idle connection is kept for long; the others of a burst only for a moment,
    # long enough for the next burst to reuse them instead of connecting again. One event loop:
    # each has its own pools.
    gh = factory.gatehouse(
        factory.config([backend.address], workers=1, pools={"app": {"keepalive": 1}}))

    def burst(tag):
        with ThreadPoolExecutor(6) as pool:
            rs = list(pool.map(
                lambda i: request(gh, target="/bytes/10?delay=0.3&%s=%d" % (tag, i)), range(6)))
        assert [r.status for r in rs] == [200] * 6

    burst("a")
    assert backend.stats()["connections"] == 6
    burst("b")
    assert backend.stats()["connections"] == 6, "the burst's extra connections were not reused"
    assert wait_for(lambda: len(backend.stats()["open_connections"]) == 1, timeout=4), \
        backend.stats()
    assert request(gh, target="/echo").status == 200
    assert backend.stats()["connections"] == 6
