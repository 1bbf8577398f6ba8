# SPDX-License-Identifier: MIT
"""A CPU quota for the server under test, so that the server, not the client, sets the pace.

On a 2-CPU machine the load generator and the origin share one CPU. A server that needs less than
that CPU's worth of work per request is never saturated: its req/s is then the client's ceiling,
which moves with the machine's mood, and two such servers differ only by noise. Capping every
server at the same share of its CPU (cgroup v2 cpu.max, or the v1 CFS quota) makes each one's
req/s what it can do on that share. BENCH_SERVER_QUOTA=1 (or 0) turns it off."""

from __future__ import annotations

import os
import time

PERIOD_US = 10_000  # short, so a throttled server waits at most a few ms at a time


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


class ServerQuota:
    def __init__(self, cores: float):
        self.cores = cores
        self.dir: str | None = None
        self.why = ""  # why there is no quota, when there is none
        self._tried = False

    @property
    def active(self) -> bool:
        return self.dir is not None

    def setup(self) -> None:
        if self._tried:
            return
        self._tried = True
        if not 0 < self.cores < 1:
            self.why = "off (BENCH_SERVER_QUOTA)"
            return
        quota = int(PERIOD_US * self.cores)
        name = f"gatehouse-bench-{os.getpid()}"
        try:
            if "cpu" in _read("/sys/fs/cgroup/cgroup.controllers").split():  # cgroup v2
                root = "/sys/fs/cgroup"
                if "cpu" not in _read(f"{root}/cgroup.subtree_control").split():
                    _write(f"{root}/cgroup.subtree_control", "+cpu")
                d = os.path.join(root, name)
                os.makedirs(d, exist_ok=True)
                _write(f"{d}/cpu.max", f"{quota} {PERIOD_US}")
            elif os.path.exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):  # cgroup v1
                d = os.path.join("/sys/fs/cgroup/cpu", name)
                os.makedirs(d, exist_ok=True)
                _write(f"{d}/cpu.cfs_period_us", str(PERIOD_US))
                _write(f"{d}/cpu.cfs_quota_us", str(quota))
            else:
                self.why = "unavailable (no cgroup cpu controller)"
                return
        except OSError as e:
            self.why = f"unavailable ({e.strerror})"
            return
        self.dir = d

    def wrap(self, argv: list[str]) -> list[str]:
        """|argv| started inside the quota's cgroup (the shell moves itself in, then execs, so
        the server and every process it forks are in it from the start)."""
        self.setup()
        if not self.dir:
            return argv
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', f"{self.dir}/cgroup.procs", *argv]

    def describe(self) -> str:
        self.setup()
        if not self.dir:
            return f"server CPU quota {self.why}"
        return (f"server CPU quota {self.cores:g} core ({int(PERIOD_US * self.cores)} us per "
                f"{PERIOD_US} us, cgroup {self.dir})")

    def cleanup(self) -> None:
        """Removes the cgroup; a server stopped a moment ago may still be leaving it (EBUSY)."""
        if not self.dir:
            return
        for _ in range(50):
            try:
                os.rmdir(self.dir)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


SERVER_QUOTA = ServerQuota(float(os.environ.get("BENCH_SERVER_QUOTA", "0.5")))
