# SPDX-License-Identifier: MIT
"""The known HTTP/2 attacks, sent with hand-built frames (h2raw): each offender gets GOAWAY and is
closed, while a well-behaved client on another connection is still served at once, by the same
worker (nothing crashed)."""
import time

import pytest

from conftest import _Factories
from ghtest import curl, wait_for
import h2raw
from h2raw import ENHANCE_YOUR_CALM, h2c_supported


@pytest.fixture(scope="module")
def gh(tmp_path_factory):
    """One gatehouse (one event loop) whose clients must take response bytes within 2 s."""
    tmp = tmp_path_factory.mktemp("h2attacks")
    f = _Factories(tmp)
    try:
        backend = f.backend()
        g = f.gatehouse(f.config([backend.address], workers=1,
                                 timeouts={"client_send": "2s"},
                                 buffering={"temp_path": str(tmp)}))
    except BaseException:
        f.teardown()
        raise
    if not h2c_supported(g):
        f.teardown()
        pytest.skip("this build does not hand the h2c preface over to HTTP/2")
    g.backend, g.tmp = backend, tmp
    g.worker_pids = g.workers()
    yield g
    f.teardown()


def served_promptly(g):
    """A well-behaved client on its own connection gets its answer within a second."""
    start = time.monotonic()
    out = curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
               g.url("/-/health"), timeout=5)
    assert out.stdout == b"200", out.stderr
    assert time.monotonic() - start < 1.0
    assert g.workers() == g.worker_pids, "the worker was replaced: it crashed"
    return True


def goaway_and_closed(c, code=ENHANCE_YOUR_CALM, timeout=5):
    got = c.goaway(timeout)
    closed = c.wait_closed(timeout)
    c.close()
    assert got == code, "GOAWAY %r, expected %r" % (got, code)
    assert closed
    return True


def test_rapid_reset(gh):
    """CVE-2023-44487: requests opened and cancelled at once, thousands of them."""
    c = h2raw.Conn(gh.hostport)
    block = h2raw.request_block("/echo")
    c.send(b"".join(h2raw.headers(2 * i + 1, block) + h2raw.rst_stream(2 * i + 1)
                    for i in range(3000)))
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_rapid_reset_of_requests_already_sent_to_the_backend(gh):
    """The slow variant: each reset comes after the backend was asked; the budget still trips
    and the abandoned backend connections are closed, not left waiting."""
    c = h2raw.Conn(gh.hostport)
    for i in range(400):
        sid = 2 * i + 1
        if not c.send(h2raw.headers(sid, h2raw.request_block("/hang"))):
            break
        time.sleep(0.002)
        if not c.send(h2raw.rst_stream(sid)):
            break
    assert goaway_and_closed(c)
    assert served_promptly(gh)
    assert wait_for(lambda: len(gh.backend.stats()["open_connections"]) <= 2, timeout=5)


def test_continuation_flood(gh):
    """2024's CONTINUATION flood: a header block that never ends."""
    c = h2raw.Conn(gh.hostport)
    data = h2raw.headers(1, h2raw.request_block("/"), end_headers=False)
    data += b"".join(h2raw.frame(h2raw.CONTINUATION, 0, 1, h2raw.hpack_literal("x-a%d" % i, "b"))
                     for i in range(1000))
    c.send(data)
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_hpack_bomb(gh):
    """A 4 KB value in the dynamic table, then referenced with one byte thousands of times."""
    c = h2raw.Conn(gh.hostport)
    block = h2raw.request_block("/") + h2raw.hpack_literal("x-bomb", "a" * 4000, index=True)
    block += h2raw.hpack_indexed(62) * 4000
    c.send(h2raw.headers(1, block))
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_settings_flood(gh):
    c = h2raw.Conn(gh.hostport)
    c.send(h2raw.settings((h2raw.SETTINGS_INITIAL_WINDOW_SIZE, 65535)) * 5000)
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_ping_flood_from_a_client_that_reads_the_acks(gh):
    """Batches small enough for nghttp2's queue of ACKs: our budget is what stops it."""
    c = h2raw.Conn(gh.hostport)
    code = None
    for _ in range(100):
        if not c.send(h2raw.ping() * 100):
            break
        f, _ = c.frames_until(lambda f: f[0] == h2raw.GOAWAY, 0.05)
        if f:
            code = int.from_bytes(f[3][4:8], "big")
            break
    assert code == ENHANCE_YOUR_CALM
    assert c.wait_closed(5)
    c.close()
    assert served_promptly(gh)


def test_window_update_flood(gh):
    c = h2raw.Conn(gh.hostport)
    c.send(h2raw.window_update(0, 1) * 5000)
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_empty_data_frame_flood(gh):
    """CVE-2019-9518: DATA frames without payload nor END_STREAM."""
    c = h2raw.Conn(gh.hostport)
    data = h2raw.headers(1, h2raw.request_block("/echo", method="POST"), end_stream=False)
    c.send(data + h2raw.frame(h2raw.DATA, 0, 1, b"") * 5000)
    assert goaway_and_closed(c)
    assert served_promptly(gh)


def test_zero_window_stall(gh):
    """A client that opens responses but never lets them flow (initial window 0) is closed after
    client_send; what it held (backend connections, spilled bodies) goes with it."""
    c = h2raw.Conn(gh.hostport, settings_pairs=[(h2raw.SETTINGS_INITIAL_WINDOW_SIZE, 0)])
    c.send(b"".join(h2raw.headers(2 * i + 1, h2raw.request_block("/bytes/2000000"))
                    for i in range(20)))
    start = time.monotonic()
    assert served_promptly(gh)
    assert c.wait_closed(10)
    assert 1.5 < time.monotonic() - start < 6
    c.close()
    assert served_promptly(gh)
