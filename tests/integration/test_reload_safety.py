# SPDX-License-Identifier: MIT
"""A reload that passes `check` never takes the site down: names are resolved by the main process,
a new worker takes over only once it serves, and a worker that cannot start never leaves the
ports open with nobody serving."""
import os
import re
import resource
import signal
import socket
import subprocess
import time

import pytest

from ghtest import clean_env, free_port, gatehouse_bin, request, to_yaml, wait_for

BAD_NAME = "nonexistent.invalid:18081"


def _server(gh):
    try:
        r = request(gh)
        return r.json()["server"] if r.status == 200 else None
    except OSError:
        return None


def _line_of(path, needle):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n, line.index(needle) + 1
    raise AssertionError("%r not in %s" % (needle, path))


def _wait_line(gh, pattern, timeout=15):
    rx = re.compile(pattern)
    return wait_for(lambda: next((l for l in gh.stderr_lines if rx.search(l)), None),
                    timeout=timeout, interval=0.05)


def _run(config_path, timeout=15, nofile=None):
    """Runs `gatehouse -c FILE` to its exit (under an open-file limit of |nofile|); one that does
    not exit in time fails the test."""
    def limit():
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    p = subprocess.Popen([gatehouse_bin(), "-c", str(config_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=clean_env(), preexec_fn=limit)
    start = time.monotonic()
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail("gatehouse did not exit within %ss:\n%s" % (timeout, out + err))
    return p.returncode, out + err, time.monotonic() - start


def _fd_top(pid):
    """One past the highest fd number |pid| holds: with a soft open-file limit of this plus k,
    the process can open k more."""
    return max(int(fd) for fd in os.listdir("/proc/%d/fd" % pid)) + 1


def _fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# Room for what the main process opens during a start or reload (the config file, the worker's
# ready pipe), not for 64 event loops (5 fds each): only the new worker runs out.
ROOM = 16
NO_LOOPS = r"cannot create event loop \d+ of 64: Too many open files"


def _refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def test_check_says_a_server_name_that_does_not_resolve_at_its_line(factory, tmp_path):
    path = tmp_path / "bad-name.yaml"
    path.write_text(to_yaml(factory.config(["127.0.0.1:9", BAD_NAME])) + "\n")
    p = subprocess.run([gatehouse_bin(), "check", "-c", str(path)], capture_output=True,
                       text=True, env=clean_env(), timeout=30)
    line, col = _line_of(path, '"%s"' % BAD_NAME)
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r'^%s:%d:%d: error: pools\.app: host not found in upstream "%s"' % (
        re.escape(str(path)), line, col, re.escape(BAD_NAME)), p.stdout, re.M), p.stdout


def test_hup_with_a_name_that_does_not_resolve_is_refused_and_the_old_config_serves(factory):
    a = factory.backend(name="a")
    gh = factory.gatehouse(factory.config([a.address]))
    assert _server(gh) == "a"
    worker = gh.workers()
    gh.write_config(factory.config([BAD_NAME]))
    os.kill(gh.pid, signal.SIGHUP)
    refused = _wait_line(gh, r"reload refused")
    assert refused, gh.stderr()
    assert re.search(r"%s:\d+:\d+: error: .*host not found in upstream" % re.escape(
        gh.config_path), gh.stderr()), gh.stderr()
    assert "generation 1 serving" not in gh.stderr()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert _server(gh) == "a", "stopped serving after a refused reload"
    assert gh.workers() == worker


def test_a_reload_whose_new_worker_cannot_start_keeps_the_old_worker_serving(factory):
    # Passes `check`, fails for real in the new worker only: the main process's open-file limit
    # (which the new worker inherits) leaves no room for the 64 event loops the new config asks.
    a, b = factory.backend(name="a"), factory.backend(name="b")
    gh = factory.gatehouse(factory.config([a.address], workers=1))
    assert _server(gh) == "a"
    worker = gh.workers()
    assert len(worker) == 1
    held = _fd_count(gh.pid)
    soft, hard = resource.prlimit(gh.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(gh.pid, resource.RLIMIT_NOFILE, (_fd_top(gh.pid) + ROOM, hard))
    gh.write_config(factory.config([b.address], workers=64))
    os.kill(gh.pid, signal.SIGHUP)
    failed = _wait_line(gh, r"reload failed")
    assert failed, gh.stderr()
    assert re.search(r"the new worker cannot start: " + NO_LOOPS, failed), failed
    assert "generation 0 keeps serving" in failed
    assert "generation 1 serving" not in gh.stderr()
    assert gh.proc.poll() is None
    for _ in range(10):
        assert _server(gh) == "a"
    assert gh.workers() == worker, "the old worker was let go"
    assert _fd_count(gh.pid) == held, "the failed reload left fds open in the main process"

    # The next good reload is generation 1: the failed one was never committed.
    resource.prlimit(gh.pid, resource.RLIMIT_NOFILE, (soft, hard))
    os.kill(gh.pid, signal.SIGHUP)
    assert _wait_line(gh, r"reload: config generation 1 serving"), gh.stderr()
    assert wait_for(lambda: _server(gh) == "b", timeout=5)


def test_start_with_a_worker_that_cannot_start_exits_non_zero_with_the_reason(factory, tmp_path):
    port = free_port()
    listeners = [{"name": "http", "address": "127.0.0.1:%d" % port}]
    # What the main process holds once it serves, measured on a good start of the same shape.
    good = factory.gatehouse(factory.config(["127.0.0.1:9"], listeners=listeners, workers=1))
    top = _fd_top(good.pid)
    good.stop()
    assert _refused(port)
    cfg = factory.config(["127.0.0.1:9"], listeners=listeners, workers=64)
    path = tmp_path / "failing-worker.yaml"
    path.write_text(to_yaml(cfg) + "\n")
    rc, out, took = _run(path, nofile=top + ROOM)
    assert rc == 1, out
    assert took < 5, "took %.1fs to give up" % took
    assert re.search(r"cannot start: " + NO_LOOPS, out), out
    assert "killed by signal" not in out and "[err]" not in out, out
    assert _refused(port), "the port is still open after gatehouse exited"


def test_start_with_a_server_name_that_does_not_resolve_exits_1(factory, tmp_path):
    path = tmp_path / "bad-name-start.yaml"
    path.write_text(to_yaml(factory.config([BAD_NAME])) + "\n")
    rc, out, _ = _run(path)
    assert rc == 1, out
    assert "host not found in upstream \"%s\"" % BAD_NAME in out, out
    assert "listening:" not in out


def test_a_restarted_worker_that_cannot_start_stops_gatehouse_instead_of_hanging_clients(
        factory, tmp_path):
    backend = factory.backend()
    log = tmp_path / "access.log"
    gh = factory.gatehouse(factory.config([backend.address], access_log={"path": str(log)}))
    assert _server(gh) == "backend"
    # What the restart needs goes away after start: the access log path becomes a directory.
    log.unlink()
    log.mkdir()
    gh.expected_exit = True
    os.kill(gh.workers()[0], signal.SIGKILL)
    try:
        rc = gh.proc.wait(20)
    except subprocess.TimeoutExpired:
        pytest.fail("gatehouse kept its port open with no worker:\n" + gh.stderr())
    assert rc == 1, gh.stderr()
    assert re.search(r"cannot start: cannot open access log .*trying again in 1s", gh.stderr())
    assert re.search(r"cannot start: cannot open access log .*giving up", gh.stderr())
    assert _refused(gh.hostport[1])


def test_servers_by_host_name_are_re_resolved_without_dropping_a_request(factory):
    backend = factory.backend()
    port = backend.hostport[1]
    gh = factory.gatehouse(factory.config(["localhost:%d" % port], resolve_interval="200ms"))
    deadline = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < deadline:
        assert _server(gh) == "backend"
        n += 1
    assert n > 10
    assert "cannot re-resolve" not in gh.stderr()
    assert gh.proc.poll() is None


def test_a_new_worker_that_never_reports_ready_is_bounded_and_the_old_one_serves_meanwhile(
        factory, tmp_path):
    # The new worker blocks opening its access log (a FIFO nobody reads): it never serves. A new
    # worker, since the number of event loops changes (in place, the main process opens the log
    # and refuses the FIFO at once: test_reload_inprocess.py).
    a, b = factory.backend(name="a"), factory.backend(name="b")
    gh = factory.gatehouse(factory.config([a.address], workers=1))
    assert _server(gh) == "a"
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    gh.write_config(factory.config([b.address], workers=2, access_log={"path": str(fifo)}))
    started = time.monotonic()
    os.kill(gh.pid, signal.SIGHUP)
    assert _wait_line(gh, r"worker \d+ started \(config generation 1\)", timeout=5), gh.stderr()
    while not any("reload failed" in l for l in gh.stderr_lines):
        assert time.monotonic() - started < 15, "no verdict on the reload:\n" + gh.stderr()
        assert _server(gh) == "a", "the old worker stopped serving during the reload"
        time.sleep(0.2)
    failed = _wait_line(gh, r"reload failed")
    assert "did not report ready within 10s" in failed, failed
    assert 9 < time.monotonic() - started < 15
    assert _server(gh) == "a"
    assert len(gh.workers()) == 1, "the stuck worker was not reaped"
