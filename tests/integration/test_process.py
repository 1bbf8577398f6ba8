# SPDX-License-Identifier: MIT
"""Process model: a main process supervising one worker; signals TERM, INT and HUP."""
import os
import signal
import time

import pytest

from ghtest import build, request, wait_for


def _serves(gh, target="/echo"):
    try:
        r = request(gh, target=target)
        return r if r.status == 200 else None
    except OSError:
        return None


def test_main_process_supervises_one_worker_and_restarts_it(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address]))
    assert _serves(gh)
    workers = wait_for(gh.workers, timeout=5)
    assert len(workers) == 1, "expected one worker process under %d, found %r" % (gh.pid, workers)
    old = workers[0]
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: [p for p in gh.workers() if p != old], timeout=5)
    assert new, "no new worker after the old one was killed"
    assert gh.proc.poll() is None, "main process died with its worker"
    assert wait_for(lambda: _serves(gh), timeout=5), "not serving again on %s" % gh.address
    assert len(gh.workers()) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_term_and_int_stop_with_exit_status_0(factory, backend, sig):
    gh = factory.gatehouse(factory.config([backend.address]))
    assert _serves(gh)
    workers = gh.workers()
    gh.expected_exit = True
    os.kill(gh.pid, sig)
    try:
        rc = gh.proc.wait(5)
    except Exception:
        pytest.fail("gatehouse did not exit within 5s of %s" % sig.name)
    assert rc == 0
    assert wait_for(lambda: not any(os.path.exists("/proc/%d" % p) for p in workers), timeout=5), \
        "worker outlived the main process"


def test_term_finishes_in_flight_requests(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], timeouts={"shutdown": "5s"}))
    assert _serves(gh)
    gh.expected_exit = True
    c = gh.connect()
    c.send(build("GET", "/bytes/1000?delay=1.0", close=True))
    time.sleep(0.3)
    os.kill(gh.pid, signal.SIGTERM)
    r = c.response()
    c.close()
    assert r.status == 200 and r.complete and len(r.body) == 1000
    assert gh.proc.wait(5) == 0


def test_hup_with_a_bad_file_keeps_the_running_config(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address]))
    assert _serves(gh)
    gh.write_config("listeners: [\nthis is not: valid: yaml\n")
    os.kill(gh.pid, signal.SIGHUP)
    time.sleep(1.0)
    assert gh.proc.poll() is None, "gatehouse exited on a bad reload"
    for _ in range(5):
        assert _serves(gh), "stopped serving after a refused reload"


def test_hup_with_a_good_file_changes_the_route(factory):
    a, b = factory.backend(name="a"), factory.backend(name="b")
    cfg = factory.config([a.address])
    gh = factory.gatehouse(cfg)
    assert _serves(gh).json()["server"] == "a"
    new = dict(cfg)
    new["pools"] = {"app": {"servers": [a.address]}, "other": {"servers": [b.address]}}
    new["rules"] = [{"name": "default", "pool": "other"}]
    gh.write_config(new)
    os.kill(gh.pid, signal.SIGHUP)
    assert wait_for(lambda: (_serves(gh) or None) and _serves(gh).json()["server"] == "b",
                    timeout=5, interval=0.2), "reloaded route not in effect"
    # Same listening socket: connections to the old address keep working.
    for _ in range(5):
        assert _serves(gh).json()["server"] == "b"


def test_a_request_in_flight_during_a_reload_completes(factory, backend):
    cfg = factory.config([backend.address])
    gh = factory.gatehouse(cfg)
    assert _serves(gh)
    c = gh.connect()
    c.send(build("GET", "/bytes/1000?delay=1.0", close=True))
    time.sleep(0.3)
    gh.write_config(factory.config([backend.address], timeouts={"client_idle": "30s"}))
    os.kill(gh.pid, signal.SIGHUP)
    r = c.response()
    c.close()
    assert r.status == 200 and r.complete and len(r.body) == 1000
    assert wait_for(lambda: _serves(gh), timeout=5)
