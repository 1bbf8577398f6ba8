# SPDX-License-Identifier: MIT
"""The bench scenarios.

Adding a scenario (TLS, HTTP/2 via h2load, cache hits, ...) is one function that measures one
started server and returns {metric key: value}, plus one entry in SCENARIOS naming its metrics
(and, optionally, the issue's targets for them). The runner starts a fresh server for every
(round, scenario, server), so scenarios never see each other's leftovers.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import loadgen
from procs import CLIENT_CPU, PeakRssSampler, pinned, tree_memory
from servers import Bench, Instance

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Settings:
    duration: str          # wrk -d
    warmup: str            # wrk -d of an unmeasured run first ("" for none)
    connections: int       # wrk -c
    idle_conns: int
    big_size: int          # bytes of the streamed file


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    better: str | None = None  # "higher", "lower" or None (informational)
    chart: bool = True
    fmt: str = "{:.0f}"


@dataclass(frozen=True)
class Target:
    """A goal from the issue: metric vs a reference server (ratio) or an absolute bound."""

    metric: str
    text: str
    ref: str | None = None
    min_ratio: float | None = None
    max_ratio: float | None = None
    max_abs: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    metrics: list[Metric]
    run: Callable[[Bench, Instance, Settings, list[str]], dict[str, float]]
    short: str = ""  # chart panel title
    targets: list[Target] = field(default_factory=list)


def _errors(warnings: list[str], what: str, n: float) -> None:
    if n:
        warnings.append(f"{what}: {n:g}")


# ---- 1 KiB pass-through with keep-alive ---------------------------------------------------------

def run_small(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    url = inst.url("/1k")
    if s.warmup:
        loadgen.wrk(url, s.warmup, s.connections)
    r = loadgen.wrk(url, s.duration, s.connections)
    _errors(warnings, "wrk non-2xx/3xx responses", r.non_2xx)
    _errors(warnings, "wrk socket errors", r.socket_errors)
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
            "errors": r.non_2xx + r.socket_errors}


# ---- 1 GiB streamed through ---------------------------------------------------------------------

def run_stream(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    with PeakRssSampler(inst.proc.pid) as sampler:
        d = loadgen.curl_download(inst.url("/1g"))
    if d.status != 200 or d.size != s.big_size:
        warnings.append(f"download: status {d.status}, {d.size} of {s.big_size} bytes")
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"mb_s": d.mb_per_s, "peak_rss_mib": sampler.peak / 2**20, "seconds": d.seconds,
            "complete": float(d.status == 200 and d.size == s.big_size)}


# ---- idle keep-alive connections ----------------------------------------------------------------

def _warm(inst: Instance, requests: int = 32, conns: int = 4) -> None:
    """A few keep-alive requests, so lazily built state is in the 'before' figure."""
    for _ in range(conns):
        c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=10)
        for _ in range(requests // conns):
            c.request("GET", "/1k")
            c.getresponse().read()
        c.close()


def run_idle(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    _warm(inst)
    time.sleep(0.5)
    before = tree_memory(inst.proc.pid)
    client = subprocess.Popen(
        pinned(CLIENT_CPU, [sys.executable, os.path.join(HARNESS_DIR, "idle_client.py"),
                            "127.0.0.1", str(inst.port), str(s.idle_conns)]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        opened = json.loads(client.stdout.readline() or "{}")
        ok = opened.get("ok", 0)
        if opened.get("failed"):
            warnings.append(f"idle client: {opened['failed']} of {s.idle_conns} failed: "
                            f"{opened.get('errors')}")
        time.sleep(1.0)  # let the server finish freeing per-request state
        after = tree_memory(inst.proc.pid)
        client.stdin.write("check\n")
        client.stdin.flush()
        alive = json.loads(client.stdout.readline() or "{}").get("alive", 0)
        if alive < ok:
            warnings.append(f"idle client: server closed {ok - alive} of {ok} idle connections")
    finally:
        try:
            client.stdin.write("close\n")
            client.stdin.flush()
        except OSError:
            pass
        try:
            client.wait(30)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    n = max(alive, 1)
    return {"bytes_per_conn": (after.private - before.private) / n,
            "bytes_per_conn_rss": (after.rss - before.rss) / n,
            "idle_conns": float(alive), "private_before_mib": before.private / 2**20}


SCENARIOS: list[Scenario] = [
    Scenario(
        name="small-keepalive",
        title="1 KiB pass-through, keep-alive (wrk -t1 -c64)",
        metrics=[
            Metric("rps", "req/s", "req/s", "higher"),
            Metric("p99_ms", "p99 latency", "ms", "lower", fmt="{:.2f}"),
            Metric("p50_ms", "p50 latency", "ms", "lower", chart=False, fmt="{:.2f}"),
            Metric("errors", "errors (non-2xx + socket)", "count", None, chart=False),
        ],
        run=run_small,
        short="1 KiB pass-through, keep-alive",
        targets=[Target("rps", ">= 1.0x HAProxy req/s", ref="haproxy", min_ratio=1.0),
                 Target("p99_ms", "p99 <= HAProxy's", ref="haproxy", max_ratio=1.0)],
    ),
    Scenario(
        name="big-stream",
        title="1 GiB streamed through (curl -o /dev/null)",
        metrics=[
            Metric("mb_s", "throughput", "MB/s", "higher"),
            Metric("peak_rss_mib", "peak RSS, process tree", "MiB", "lower", fmt="{:.1f}"),
            Metric("seconds", "download time", "s", "lower", chart=False, fmt="{:.2f}"),
        ],
        run=run_stream,
        short="1 GiB streamed through",
        targets=[Target("mb_s", ">= 0.9x nginx MB/s", ref="nginx", min_ratio=0.9),
                 Target("peak_rss_mib", "peak RSS < 64 MiB", max_abs=64.0)],
    ),
    Scenario(
        name="idle-keepalive",
        title="idle keep-alive connections (process memory per connection)",
        metrics=[
            Metric("bytes_per_conn", "bytes/conn (Private)", "B", "lower"),
            Metric("bytes_per_conn_rss", "bytes/conn (RSS)", "B", "lower", chart=False),
            Metric("idle_conns", "idle connections held", "count", None, chart=False),
        ],
        run=run_idle,
        short="idle keep-alive connections",
        targets=[Target("bytes_per_conn", "<= nginx's bytes/conn", ref="nginx", max_ratio=1.0)],
    ),
]


def select(names: list[str] | None) -> list[Scenario]:
    if not names:
        return SCENARIOS
    known = {s.name: s for s in SCENARIOS}
    bad = [n for n in names if n not in known]
    if bad:
        raise SystemExit(f"unknown scenario(s) {bad}; known: {', '.join(known)}")
    return [known[n] for n in names]
