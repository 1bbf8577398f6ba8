# SPDX-License-Identifier: MIT
"""A worker that runs out of file descriptors after it started keeps running, does not spin on
its listeners or flood the log, and serves again once fds are free."""
import os
import resource
import time

from ghtest import request, sanitized_build, wait_for


def _server(gh):
    try:
        r = request(gh)
        return r.json()["server"] if r.status == 200 else None
    except OSError:
        return None


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quiet_ubsan_vptr(monkeypatch, tmpdir):
    """UBSan's vptr check reads the object's memory through a pipe(2) it makes to probe that the
    memory is readable; in a process out of fds the pipe fails and it reports a false "invalid
    vptr" (seen on an Exchange freed by the recycler's trim). Only this test starves the process,
    so only here is that check off."""
    if not sanitized_build():
        return
    supp = tmpdir.join("ubsan.supp")
    supp.write("vptr:*\n")
    opts = os.environ.get("UBSAN_OPTIONS", "")
    monkeypatch.setenv("UBSAN_OPTIONS", (opts + ":" if opts else "") + "suppressions=%s" % supp)


def test_a_worker_out_of_fds_pauses_accepting_instead_of_spinning_and_serves_once_they_free(
        factory, monkeypatch, tmpdir):
    _quiet_ubsan_vptr(monkeypatch, tmpdir)
    backend = factory.backend()
    gh = factory.gatehouse(factory.config([backend.address], workers=1,
                                          timeouts={"client_header": "30s"}))
    assert _server(gh) == "backend"
    (worker,) = gh.workers()
    soft, hard = resource.prlimit(worker, resource.RLIMIT_NOFILE)
    top = max(int(fd) for fd in os.listdir("/proc/%d/fd" % worker)) + 1
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (top + 2, hard))
    held = []
    try:
        # A few take the free fd numbers and wait for the rest of their heads; the others stay
        # queued: accept() fails. (A first byte each: the listener defers accept until data.)
        held = [gh.connect() for _ in range(16)]
        for c in held:
            c.send(b"G")
        line = wait_for(lambda: next((l for l in gh.stderr_lines
                                      if "accept on http: Too many open files" in l), None),
                        timeout=5)
        assert line, gh.stderr()
        assert "raise the open file limit" in line
        cpu, start = _cpu_seconds(worker), time.monotonic()
        time.sleep(1.5)  # a window to measure the worker's CPU time in
        busy = (_cpu_seconds(worker) - cpu) / (time.monotonic() - start)
        assert busy < 0.25, "the worker spun on its listener: %.0f%% CPU" % (busy * 100)
        lines = [l for l in gh.stderr_lines if "accept on http" in l]
        assert len(lines) <= 4, "%d lines about accept in 2 s" % len(lines)
    finally:
        for s in held:
            s.close()
        resource.prlimit(worker, resource.RLIMIT_NOFILE, (soft, hard))
    assert wait_for(lambda: _server(gh) == "backend", timeout=5)
    assert gh.workers() == [worker]
