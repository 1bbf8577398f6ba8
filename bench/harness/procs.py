# SPDX-License-Identifier: MIT
"""Processes for the bench: free ports, pinned launches, process-tree memory, cleanup."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

# CPU layout (see README): the server under test alone on SERVER_CPU; the load generator, the
# origin and the bench's own helpers share CLIENT_CPU.
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
CLIENT_CPU = os.environ.get("BENCH_CLIENT_CPU", "1")


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv]


@dataclass
class Proc:
    """A started process group; stopped by its own pid (never by name)."""

    name: str
    popen: subprocess.Popen
    log_path: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, grace: float = 5.0) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait()


class Launcher:
    """Starts processes in their own session and remembers them, so every one is stopped at the
    end (and run.sh's trap can stop them from the pid list if Python itself is killed)."""

    def __init__(self, tmp: str):
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.pid_list = os.path.join(tmp, "pids")

    def start(self, name: str, argv: list[str], env: dict | None = None, cwd: str | None = None) -> Proc:
        log_path = os.path.join(self.tmp, f"{name}.log")
        log = open(log_path, "ab")
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=cwd)
        log.close()
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        self._write_pids()
        return proc

    def _write_pids(self) -> None:
        with open(self.pid_list + ".new", "w") as f:
            f.writelines(f"{p.pid}\n" for p in self.procs)
        os.replace(self.pid_list + ".new", self.pid_list)

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)
        self._write_pids()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        self._write_pids()


def wait_ready(proc: Proc, url: str, timeout: float = 15.0, log_marker: str | None = None) -> None:
    """Waits until |url| answers 200 (and |log_marker| appeared in the log, if given)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}")
        if log_marker is None or log_marker in proc.log_tail(200):
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
                    if r.status == 200:
                        return
                    last = f"status {r.status}"
            except Exception as e:  # noqa: BLE001 - any failure means "not ready yet"
                last = str(e)
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} not ready after {timeout}s ({last}):\n{proc.log_tail()}")


# ---- process-tree memory ------------------------------------------------------------------------

def tree_pids(root: int) -> list[int]:
    """|root| and all its descendants (scans /proc; /proc/PID/task/TID/children is not always
    compiled in)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _kib_fields(path: str, names: tuple[str, ...]) -> dict[str, int]:
    vals = dict.fromkeys(names, 0)
    try:
        with open(path) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in vals:
                    vals[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return vals


def tree_rss(pids: list[int]) -> int:
    """Sum of VmRSS over |pids|, in bytes."""
    return sum(_kib_fields(f"/proc/{p}/status", ("VmRSS",))["VmRSS"] for p in pids)


@dataclass
class TreeMemory:
    rss: int = 0
    pss: int = 0
    private: int = 0  # Private_Clean + Private_Dirty: pages only this tree's processes map


def tree_memory(root: int) -> TreeMemory:
    m = TreeMemory()
    for pid in tree_pids(root):
        v = _kib_fields(f"/proc/{pid}/smaps_rollup", ("Rss", "Pss", "Private_Clean", "Private_Dirty"))
        m.rss += v["Rss"]
        m.pss += v["Pss"]
        m.private += v["Private_Clean"] + v["Private_Dirty"]
    return m


@dataclass
class PeakRssSampler:
    """Samples the summed VmRSS of a process tree every |interval| s in a thread; keeps the max."""

    root: int
    interval: float = 0.05
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "PeakRssSampler":
        self._pids = tree_pids(self.root)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            if n % 20 == 0:  # the tree rarely changes; rescan once a second
                self._pids = tree_pids(self.root)
            self.peak = max(self.peak, tree_rss(self._pids))
            self.samples += 1
            n += 1
            self._stop.wait(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak = max(self.peak, tree_rss(tree_pids(self.root)))


# ---- other load on the machine ------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time spent running tasks on all CPUs since boot: user, nice and system. Interrupts
    and softirqs (loopback TCP is mostly softirq, the bench's own) and steal are left out."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2]) / _TICK  # user nice system idle iowait irq softirq steal


def _pid_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system, of the processes and of their reaped children) of |root| and
    all its descendants, from /proc/PID/stat (clock-tick resolution)."""
    return sum(_pid_cpu_seconds(p) for p in tree_pids(root))


def _own_seconds(roots: list[int]) -> float:
    """CPU of the bench: this process, its reaped children (wrk, curl, idle client), the
    process trees of |roots| (origin, server under test) and the kernel's threads (pid 2's
    children: during a run they mostly write back the servers' temporary files for them)."""
    import resource
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
    for root in [*roots, 2]:
        total += sum(_pid_cpu_seconds(p) for p in tree_pids(root))
    return total


class ForeignLoad:
    """Measures CPU used by processes that are not part of the bench while a block runs, in
    cores (1.0 = one CPU fully busy). Other engineers' builds on the same machine show up here."""

    def __init__(self, roots: Callable[[], list[int]]):
        self.roots = roots
        self.cores = 0.0

    def __enter__(self) -> "ForeignLoad":
        self._t = time.monotonic()
        self._busy = _busy_seconds()
        self._own = _own_seconds(self.roots())
        return self

    def __exit__(self, *exc) -> None:
        dt = time.monotonic() - self._t
        foreign = (_busy_seconds() - self._busy) - (_own_seconds(self.roots()) - self._own)
        # A server stopped inside the block takes its CPU time with it; never report below 0.
        self.cores = max(0.0, foreign / dt) if dt > 0 else 0.0


def wait_quiet(roots: Callable[[], list[int]], max_wait: float, threshold: float = 0.05,
               window: float = 0.5) -> float:
    """Waits (up to |max_wait| s) until a |window| passes with less than |threshold| cores of
    foreign load; returns the last load seen."""
    deadline = time.monotonic() + max_wait
    while True:
        with ForeignLoad(roots) as load:
            time.sleep(window)
        if load.cores < threshold or time.monotonic() >= deadline:
            return load.cores
