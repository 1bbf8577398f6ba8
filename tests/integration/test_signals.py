# SPDX-License-Identifier: MIT
"""QUIT is a graceful stop, as nginx operators expect; `-c` without a file names what is missing."""
import os
import signal
import subprocess
import time

from ghtest import build, clean_env, gatehouse_bin, request, wait_for


def test_quit_stops_gracefully_finishing_requests_in_flight(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], timeouts={"shutdown": "5s"}))
    assert request(gh).status == 200
    workers = gh.workers()
    gh.expected_exit = True
    c = gh.connect()
    c.send(build("GET", "/bytes/1000?delay=1.0", close=True))
    time.sleep(0.3)
    os.kill(gh.pid, signal.SIGQUIT)
    r = c.response()
    c.close()
    assert r.status == 200 and r.complete and len(r.body) == 1000
    assert gh.proc.wait(5) == 0
    assert "core dumped" not in gh.stderr()
    assert wait_for(lambda: not any(os.path.exists("/proc/%d" % p) for p in workers), timeout=5)


def test_quit_to_the_worker_drains_it_gracefully(factory, backend):
    gh = factory.gatehouse(factory.config([backend.address], timeouts={"shutdown": "5s"}))
    assert request(gh).status == 200
    worker = gh.workers()[0]
    c = gh.connect()
    c.send(build("GET", "/bytes/1000?delay=0.8", close=True))
    time.sleep(0.3)
    os.kill(worker, signal.SIGQUIT)
    r = c.response()
    c.close()
    assert r.status == 200 and r.complete and len(r.body) == 1000
    assert wait_for(lambda: any("worker %d exited with status 0" % worker in l
                                for l in gh.stderr_lines), timeout=5), gh.stderr()


def test_dash_c_without_a_file_names_the_missing_argument():
    for args in (["-c"], ["check", "-c"], ["--config"]):
        p = subprocess.run([gatehouse_bin(), *args], capture_output=True, text=True,
                           env=clean_env(), timeout=10)
        assert p.returncode == 2, (args, p.stderr)
        first = p.stderr.splitlines()[0]
        assert args[-1] in first and "needs an argument" in first and "FILE" in first, p.stderr
