# SPDX-License-Identifier: MIT
"""Client-side timeouts: a slow request head, an idle keep-alive connection."""
import time

import pytest

from ghtest import build


@pytest.fixture
def short_timeouts(factory, backend):
    return factory.gatehouse(factory.config(
        [backend.address], timeouts={"client_header": "1s", "client_idle": "1s"}))


def _closed_after(c, t0, at_most=5):
    """Seconds from t0 until the proxy closes |c| (any 408 response is read and ignored)."""
    assert c.closed_within(at_most), "connection still open after %ss" % at_most
    return time.monotonic() - t0


def test_half_a_head_is_cut_at_client_header(short_timeouts):
    c = short_timeouts.connect()
    t0 = time.monotonic()
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    elapsed = _closed_after(c, t0)
    assert 0.8 <= elapsed < 3.5, elapsed


def test_a_trickled_head_is_cut_at_client_header(short_timeouts):
    """client_header bounds the whole head, not the gap between two bytes (slowloris)."""
    c = short_timeouts.connect()
    t0 = time.monotonic()
    closed = False
    for i in range(40):
        try:
            c.send(b"X-Slow-%d: y\r\n" % i if i else b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.1)
        if c.closed_within(0.01):
            closed = True
            break
    elapsed = time.monotonic() - t0
    assert closed, "head trickled for %.1fs without being cut" % elapsed
    assert elapsed < 3.5


def test_idle_keep_alive_connection_is_closed_at_client_idle(short_timeouts):
    c = short_timeouts.connect()
    r = c.exchange(build("GET", "/echo"))
    assert r.status == 200
    t0 = time.monotonic()
    elapsed = _closed_after(c, t0)
    assert 0.8 <= elapsed < 3.5, elapsed


def test_a_connection_in_use_is_not_idle(short_timeouts):
    c = short_timeouts.connect()
    for _ in range(4):  # 4 requests 0.6 s apart: 2.4 s of life, never 1 s idle
        r = c.exchange(build("GET", "/echo"))
        assert r.status == 200
        time.sleep(0.6)
    c.close()


def test_a_slow_response_is_not_cut_by_client_idle(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], timeouts={"client_idle": "1s"}))
    c = gh.connect()
    r = c.exchange(build("GET", "/bytes/10?delay=1.5"))
    assert r.status == 200 and r.complete
    c.close()


def test_a_timed_out_client_does_not_disturb_the_others(short_timeouts):
    busy = short_timeouts.connect()
    busy.send(build("GET", "/bytes/1000?delay=2"))  # in flight while the other one times out
    slow = short_timeouts.connect()
    slow.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    assert slow.closed_within(4)
    r = busy.response()
    busy.close()
    assert r.status == 200 and r.complete and len(r.body) == 1000
