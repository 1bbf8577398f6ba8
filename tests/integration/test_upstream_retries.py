# SPDX-License-Identifier: MIT
"""When a request goes to the backend again, and when the client gets its 504: a request whose
response timed out is never sent twice; a retry goes to another server, and only when nothing
reached the first one (connect refused or timed out) or a pooled connection was stale."""
import time

import pytest

from ghtest import free_port, is_error_response, request, wait_for
from test_upstream import full_backlog  # noqa: F401 (a fixture)


def _hangs_seen(*backends):
    return sum(1 for b in backends for e in b.stats()["log"] if e["target"] == "/hang")


def _timed(gh, **kw):
    t0 = time.monotonic()
    r = request(gh, **kw)
    return r, time.monotonic() - t0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_response_timeout_answers_504_at_backend_response_and_is_never_retried(
        factory, method):
    """One server: the shipped retries: 1 used to send it again and double the wait."""
    b = factory.backend()
    gh = factory.gatehouse(factory.config([b.address], timeouts={"backend_response": "1500ms"}))
    r, elapsed = _timed(gh, method=method, target="/hang", body=b"x" if method == "POST" else None)
    is_error_response(r, 504)
    assert 1.3 <= elapsed <= 1.8, elapsed
    assert wait_for(lambda: _hangs_seen(b) >= 1)
    time.sleep(0.3)  # a second attempt would have reached the backend by now
    assert _hangs_seen(b) == 1


def test_with_two_servers_a_timed_out_response_is_not_sent_to_the_other(factory):
    b1, b2 = factory.backend(name="b1"), factory.backend(name="b2")
    gh = factory.gatehouse(factory.config([b1.address, b2.address], workers=1,
                                          timeouts={"backend_response": "1s"},
                                          pools={"app": {"retries": 2}}))
    r, elapsed = _timed(gh, target="/hang")
    is_error_response(r, 504)
    assert 0.8 <= elapsed <= 1.3, elapsed
    time.sleep(0.3)
    assert _hangs_seen(b1, b2) == 1


def test_a_connect_timeout_answers_504_once(factory, full_backlog):  # noqa: F811
    gh = factory.gatehouse(factory.config([full_backlog], timeouts={"backend_connect": "700ms"}))
    r, elapsed = _timed(gh)
    is_error_response(r, 504)
    assert 0.5 <= elapsed <= 1.0, elapsed  # not retried on the same server (1.4 s)


def test_a_connect_timeout_is_retried_on_the_other_server(factory, full_backlog):  # noqa: F811
    b = factory.backend()
    # workers: 1, so the first request goes to the first server (round robin starts there).
    gh = factory.gatehouse(factory.config([full_backlog, b.address], workers=1,
                                          timeouts={"backend_connect": "700ms"}))
    r, elapsed = _timed(gh, method="POST", target="/echo", body=b"payload")
    assert r.status == 200, r
    assert r.json()["body_length"] == 7
    assert 0.5 <= elapsed <= 1.2, elapsed


def test_a_refused_connect_is_retried_on_the_other_server_once(factory):
    b = factory.backend()
    gh = factory.gatehouse(factory.config(["127.0.0.1:%d" % free_port(), b.address], workers=1))
    r, _ = _timed(gh, method="POST", target="/echo", body=b"abc")
    assert r.status == 200, r
    assert sum(1 for e in b.stats()["log"] if e["target"] == "/echo") == 1


def test_two_unreachable_servers_give_one_502(factory):
    gh = factory.gatehouse(factory.config(["127.0.0.1:%d" % free_port(),
                                           "127.0.0.1:%d" % free_port()], workers=1))
    r, elapsed = _timed(gh)
    is_error_response(r, 502)
    assert elapsed < 2
