# SPDX-License-Identifier: MIT
"""Timeouts keep to their configured value within about 100 ms, whatever the client does in
between: client_header over HTTP/1.1 (a head sent at once or trickled) and HTTP/2 (a header block
left unfinished), client_body over HTTP/2, and the cut at timeouts.shutdown over both."""
import os
import signal
import time

import pytest

import h2raw
from ghtest import build, is_error_response


@pytest.fixture
def gh(factory, backend):
    return factory.gatehouse(factory.config(
        [backend.address], workers=1,
        timeouts={"client_header": "2s", "client_body": "2s", "client_send": "2s",
                  "backend_response": "30s", "shutdown": "2s"}))


def test_a_silent_half_head_gets_408_at_client_header(gh):
    c = gh.connect()
    t0 = time.monotonic()
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    r = c.response()
    elapsed = time.monotonic() - t0
    is_error_response(r, 408)
    assert 1.8 <= elapsed <= 2.2, elapsed


@pytest.mark.parametrize("pause", [0.3, 0.7])
def test_a_trickled_head_gets_408_at_client_header(gh, pause):
    """The deadline runs from the head's first byte; each later byte moves nothing."""
    c = gh.connect()
    t0 = time.monotonic()
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    i = 0
    while time.monotonic() - t0 < 1.9:
        time.sleep(pause)
        if time.monotonic() - t0 < 1.9:
            c.send(b"X-Slow-%d: y\r\n" % i)
        i += 1
    r = c.response()
    elapsed = time.monotonic() - t0
    is_error_response(r, 408)
    assert 1.8 <= elapsed <= 2.2, elapsed


def _h2(gh):
    c = h2raw.Conn(gh.hostport)
    f, _ = c.frames_until(lambda f: f[0] == h2raw.SETTINGS and not f[1] & h2raw.ACK)
    assert f, "no SETTINGS from the server"
    c.send(h2raw.settings(ack=True))
    return c


def test_http2_an_unfinished_header_block_is_cut_at_client_header(gh):
    c = _h2(gh)
    t0 = time.monotonic()
    c.send(h2raw.headers(1, h2raw.request_block("/echo"), end_stream=True, end_headers=False))
    code = c.goaway(timeout=5)
    elapsed = time.monotonic() - t0
    assert code is not None, "no GOAWAY"
    assert 1.8 <= elapsed <= 2.2, elapsed
    c.close()


def test_http2_a_body_that_never_comes_gets_408_at_client_body(gh):
    c = _h2(gh)
    t0 = time.monotonic()
    c.send(h2raw.headers(1, h2raw.request_block("/echo", method="POST",
                                                extra=[("content-length", "10")]),
                         end_stream=False))
    f, _ = c.frames_until(lambda f: f[0] == h2raw.HEADERS and f[2] == 1, timeout=5)
    elapsed = time.monotonic() - t0
    assert f, "no response"
    assert b"408" in f[3] or f[3][:1] != b"\x88", f  # a literal :status, not 200 (0x88)
    assert 1.8 <= elapsed <= 2.2, elapsed
    c.close()


def test_http2_a_second_stream_gets_its_own_client_body_deadline(gh):
    """Deadlines are kept to the microsecond, not rounded to the connection's 1 s tick."""
    c = _h2(gh)
    c.send(h2raw.headers(1, h2raw.request_block("/hang")))  # keeps the connection ticking
    time.sleep(0.5)
    t0 = time.monotonic()
    c.send(h2raw.headers(3, h2raw.request_block("/echo", method="POST",
                                                extra=[("content-length", "10")]),
                         end_stream=False))
    f, _ = c.frames_until(lambda f: f[0] == h2raw.HEADERS and f[2] == 3, timeout=5)
    elapsed = time.monotonic() - t0
    assert f, "no response"
    assert 1.8 <= elapsed <= 2.2, elapsed
    c.close()


def test_http2_a_client_that_stops_taking_bytes_is_cut_at_client_send(gh):
    """It takes the first window of DATA, then gives no WINDOW_UPDATE: the stall is counted from
    the last DATA, not from the tick that first saw it."""
    c = _h2(gh)
    t0 = time.monotonic()
    c.send(h2raw.headers(1, h2raw.request_block("/bytes/1000000")))
    code = c.goaway(timeout=6)
    elapsed = time.monotonic() - t0
    assert code == h2raw.ENHANCE_YOUR_CALM, code
    assert 1.8 <= elapsed <= 2.3, elapsed
    c.close()


def _shutdown_cut(gh, closed_within):
    gh.expected_exit = True
    time.sleep(0.3)  # the request is with the backend
    t0 = time.monotonic()
    os.kill(gh.pid, signal.SIGTERM)
    assert closed_within(5), "the request in flight was not cut"
    elapsed = time.monotonic() - t0
    assert 1.7 <= elapsed <= 2.3, elapsed
    assert gh.proc.wait(5) == 0


def test_shutdown_cuts_an_http1_request_at_timeouts_shutdown(gh):
    c = gh.connect()
    c.send(build("GET", "/hang"))
    _shutdown_cut(gh, c.closed_within)


def test_shutdown_cuts_an_http2_request_at_timeouts_shutdown(gh):
    c = _h2(gh)
    c.send(h2raw.headers(1, h2raw.request_block("/hang")))
    _shutdown_cut(gh, c.wait_closed)
