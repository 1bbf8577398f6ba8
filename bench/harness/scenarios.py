# SPDX-License-Identifier: MIT
"""The bench scenarios.

Adding a scenario (cache hits, ...) is one function that measures one started server and returns
{metric key: value}, plus one entry in SCENARIOS naming its metrics (and, optionally, the issue's
targets for them). The runner starts a fresh server for every (round, scenario, server), so
scenarios never see each other's leftovers. A scenario that cannot measure anything (the server
refuses TLS, say) raises; the run is reported as failed, with the reason, and the bench goes on.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import loadgen
from procs import CLIENT_CPU, PeakRssSampler, pinned, tree_cpu_seconds, tree_memory
from servers import CACHE_SCENARIOS, TLS_SCENARIOS, Bench, Instance

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Settings:
    duration: str          # wrk -d
    warmup: str            # wrk -d of an unmeasured run first ("" for none)
    connections: int       # wrk -c
    idle_conns: int        # idle connections, plain and TLS
    big_size: int          # bytes of the streamed file
    handshakes: int = 3000         # new TLS connections in tls-handshake
    handshake_clients: int = 8     # ... made by this many client threads at a time
    h2_streams: int = 10           # h2load -m in h2-small
    cache_objects: int = 1_000_000     # distinct objects stored in cache-memory
    stampede_clients: int = 1000       # concurrent clients of cold-stampede ...
    stampede_urls: int = 5             # ... for each of this many cold URLs in turn
    stampede_delay: float = 0.2        # seconds the slow backend takes to answer


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
    goal: bool = False  # an aim beyond the requirement: shown as "reached"/"not yet", not PASS/FAIL
    inclusive: bool = False  # max_abs is allowed (<=), not only values under it (<)
    # Instead of one ref: the best of these servers (the highest for min_ratio, the lowest for
    # max_ratio), picked round by round.
    best_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    metrics: list[Metric]
    run: Callable[[Bench, Instance, Settings, list[str]], dict[str, float]]
    short: str = ""  # chart panel title
    targets: list[Target] = field(default_factory=list)
    # Run without the CPU quota: the server has its whole CPU and the client side (load
    # generator and origin on one CPU) sets the pace, so req/s shows what a client sees; the
    # server's CPU per request beside it shows what the server spends.
    full_core: bool = False
    # A cache scenario: every server runs with its cache config (ServerSpec.cache_template), the
    # sizes in it from cache_values(settings) (see cache_scenarios.py).
    cache_values: Callable[[Settings], dict[str, object]] | None = None


def _errors(warnings: list[str], what: str, n: float) -> None:
    if n:
        warnings.append(f"{what}: {n:g}")


# ---- 1 KiB pass-through with keep-alive ---------------------------------------------------------

def _wrk_keepalive(inst: Instance, url: str, s: Settings, warnings: list[str],
                   require_success: bool = False,
                   counter: Callable[[], int] | None = None) -> dict[str, float]:
    """wrk on |url| (after an unmeasured warm-up): req/s, latency and errors. With |counter|
    (the origin's request count), also the hit ratio of the measured run (hit_ratio)."""
    if s.warmup:
        loadgen.wrk(url, s.warmup, s.connections)
    before = counter() if counter else 0
    cpu0, t0 = tree_cpu_seconds(inst.proc.pid), time.monotonic()
    r = loadgen.wrk(url, s.duration, s.connections)
    cpu, elapsed = tree_cpu_seconds(inst.proc.pid) - cpu0, time.monotonic() - t0
    hits = hit_ratio(counter() - before, r.requests, warnings) if counter else {}
    if require_success and r.requests - r.non_2xx <= 0:
        raise RuntimeError(f"no request succeeded:\n{r.raw[-1500:]}")
    _errors(warnings, "wrk non-2xx/3xx responses", r.non_2xx)
    _errors(warnings, "wrk socket errors", r.socket_errors)
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
            "errors": r.non_2xx + r.socket_errors, **_server_cpu(cpu, r.requests, elapsed),
            **hits}


def hit_ratio(backend: int, requests: int, warnings: list[str]) -> dict[str, float]:
    """{"hit_ratio": % of |requests| that did not reach the backend}; a warning under 99%."""
    # A pass-through server's origin also saw the requests still in flight when the client
    # stopped counting: never below 0.
    ratio = max(0.0, 100.0 * (1 - backend / requests)) if requests else 0.0
    if ratio < 99.0:
        warnings.append(f"hit ratio {ratio:.1f}%: the origin saw {backend} of {requests} "
                        f"requests (not caching?)")
    return {"hit_ratio": ratio}


def _server_cpu(cpu: float, requests: float, elapsed: float) -> dict[str, float]:
    """Server CPU per request and how busy its CPU was: when it is well under 1 core, the run
    was bound by the client's CPU (the load generator and the origin share CPU 1), and req/s
    says more about the client than about the server."""
    return {"us_per_req": cpu / requests * 1e6 if requests else 0.0,
            "server_cpu_util": cpu / elapsed if elapsed > 0 else 0.0}


def run_small(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    return _wrk_keepalive(inst, inst.url("/1k"), s, warnings)


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


def run_idle(bench: Bench, inst: Instance, s: Settings, warnings: list[str],
             tls: bool = False) -> dict[str, float]:
    if tls:
        tls_probe(inst, "http/1.1")
        _warm_tls(inst)
    else:
        _warm(inst)
    time.sleep(0.5)
    before = tree_memory(inst.proc.pid)
    port = inst.tls_port if tls else inst.port
    client = subprocess.Popen(
        pinned(CLIENT_CPU, [sys.executable, os.path.join(HARNESS_DIR, "idle_client.py"),
                            *(["--tls"] if tls else []), "127.0.0.1", str(port), str(s.idle_conns)]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    # The client gives up by itself on a server that drops connections; this is for one that
    # stalls them all: past the deadline the client is killed and the run fails.
    watchdog = threading.Timer(120 + s.idle_conns * 0.02, client.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        opened = json.loads(client.stdout.readline() or "{}")
        ok = opened.get("ok", 0)
        if opened.get("failed"):
            warnings.append(f"idle client: {opened['failed']} of {s.idle_conns} failed: "
                            f"{opened.get('errors')}")
        if ok == 0:
            raise RuntimeError(f"no idle connection could be set up: {opened.get('errors')}")
        time.sleep(1.0)  # let the server finish freeing per-request state
        after = tree_memory(inst.proc.pid)
        client.stdin.write("check\n")
        client.stdin.flush()
        alive = json.loads(client.stdout.readline() or "{}").get("alive", 0)
        if alive == 0:
            raise RuntimeError(f"the server closed all {ok} idle connections within 1 s")
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
        watchdog.cancel()
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    n = max(alive, 1)
    return {"bytes_per_conn": (after.private - before.private) / n,
            "bytes_per_conn_rss": (after.rss - before.rss) / n,
            "idle_conns": float(alive), "private_before_mib": before.private / 2**20}


# ---- TLS and HTTP/2 -----------------------------------------------------------------------------

def _client_context(alpn: list[str]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the bench's self-signed certificate
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(alpn)
    return ctx


def tls_probe(inst: Instance, alpn: str) -> str:
    """One TLS connection to the server's TLS listener offering only |alpn|; for http/1.1 also
    one GET /1k that must answer 200. Raises, saying what went wrong, if the listener does not
    work (refused, no TLS, wrong ALPN, no answer), so the scenario fails fast instead of
    measuring a broken listener. Returns "TLSv1.3 CIPHER ALPN"."""
    where = f"TLS listener 127.0.0.1:{inst.tls_port}"
    try:
        with socket.create_connection(("127.0.0.1", inst.tls_port), timeout=5) as raw, \
                _client_context([alpn]).wrap_socket(raw, server_hostname="localhost") as c:
            got = c.selected_alpn_protocol()
            desc = f"{c.version()} {c.cipher()[0]} ALPN {got or 'none'}"
            if alpn == "h2":
                if got != "h2":
                    raise RuntimeError(f"{where}: ALPN h2 offered, server chose {got or 'nothing'}")
                return desc
            c.sendall(b"GET /1k HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    raise RuntimeError(f"{where}: closed without answering a GET over TLS "
                                       f"({desc})")
                data += chunk
            status = data.split(b"\r\n", 1)[0].decode("latin-1")
            if " 200 " not in status + " ":
                raise RuntimeError(f"{where}: GET /1k over TLS answered {status!r}")
            return desc
    except RuntimeError:
        raise
    except (OSError, ssl.SSLError) as e:
        hint = ""
        if isinstance(e, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(e):
            hint = " (the listener answers in plain text: no TLS on it)"
        elif isinstance(e, (ssl.SSLEOFError, ConnectionResetError)) or "EOF" in str(e):
            hint = " (the server closed the connection during the handshake)"
        raise RuntimeError(f"{where}: {type(e).__name__}: {e}{hint}") from None


def _tls_version_warning(desc: str, warnings: list[str]) -> None:
    if desc and not desc.startswith("TLSv1.3"):
        warnings.append(f"negotiated {desc}, not TLS 1.3")


def _warm_tls(inst: Instance, requests: int = 32, conns: int = 4) -> None:
    """A few TLS keep-alive requests, so lazily built TLS state is in the 'before' figure."""
    ctx = _client_context(["http/1.1"])
    for _ in range(conns):
        c = http.client.HTTPSConnection("127.0.0.1", inst.tls_port, timeout=10, context=ctx)
        for _ in range(requests // conns):
            c.request("GET", "/1k")
            c.getresponse().read()
        c.close()


def run_h2_small(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    return h2load_run(inst, inst.tls_url("/1k"), s, warnings)


def h2load_run(inst: Instance, url: str, s: Settings, warnings: list[str],
               counter: Callable[[], int] | None = None) -> dict[str, float]:
    """h2load over TLS on |url| (after an unmeasured run): req/s, errors, server CPU; with
    |counter| (the origin's request count), the hit ratio of the measured run too."""
    _tls_version_warning(tls_probe(inst, "h2"), warnings)
    # A separate unmeasured run: h2load 1.52's --warm-up-time leaves the measured phase empty.
    if s.warmup:
        loadgen.h2load(url, clients=s.connections, streams=s.h2_streams, duration=s.warmup)
    before = counter() if counter else 0
    cpu0, t0 = tree_cpu_seconds(inst.proc.pid), time.monotonic()
    r = loadgen.h2load(url, clients=s.connections, streams=s.h2_streams, duration=s.duration)
    cpu, elapsed = tree_cpu_seconds(inst.proc.pid) - cpu0, time.monotonic() - t0
    hits = hit_ratio(counter() - before, r.done, warnings) if counter else {}
    if r.protocol != "h2":
        raise RuntimeError(f"h2load negotiated {r.protocol or 'nothing'}, not h2:\n{r.raw[-1500:]}")
    if r.good == 0:
        raise RuntimeError(f"no request succeeded over HTTP/2:\n{r.raw[-1500:]}")
    _h2load_errors(r, warnings)
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    # h2load's req/s counts every finished request; keep only the 2xx/3xx ones.
    return {"rps": r.rps * r.good / r.done if r.done else 0.0, "errors": float(r.errors),
            **_server_cpu(cpu, r.done, elapsed), **hits}


def _h2load_errors(r: loadgen.H2loadResult, warnings: list[str]) -> None:
    bad = {k: v for k, v in r.status.items() if k in ("4xx", "5xx") and v}
    if r.failed or bad:
        warnings.append(f"h2load: {r.failed} failed ({r.errored} errored, {r.timeouts} timed out)"
                        + (f", status {bad}" if bad else "") + f" of {r.total}")


def run_tls_keepalive(bench: Bench, inst: Instance, s: Settings,
                      warnings: list[str]) -> dict[str, float]:
    _tls_version_warning(tls_probe(inst, "http/1.1"), warnings)
    return _wrk_keepalive(inst, inst.tls_url("/1k"), s, warnings, require_success=True)


def _handshakes(inst: Instance, count: int, clients: int) -> dict:
    p = subprocess.run(
        pinned(CLIENT_CPU, [sys.executable, os.path.join(HARNESS_DIR, "handshake_client.py"),
                            "127.0.0.1", str(inst.tls_port), str(count), str(clients)]),
        capture_output=True, text=True, check=False, timeout=60 + count * 0.05)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"handshake client failed ({p.returncode}): {p.stderr[-1500:]}") from None


def run_tls_handshake(bench: Bench, inst: Instance, s: Settings,
                      warnings: list[str]) -> dict[str, float]:
    """Server CPU (user + system, whole process tree, from /proc) per new TLS connection: full
    handshake, one GET /1k with Connection: close, the server closes."""
    _tls_version_warning(tls_probe(inst, "http/1.1"), warnings)
    _handshakes(inst, 50, s.handshake_clients)  # warm-up: lazily built state, the origin pool
    time.sleep(0.3)
    cpu0 = tree_cpu_seconds(inst.proc.pid)
    t0 = time.monotonic()
    r = _handshakes(inst, s.handshakes, s.handshake_clients)
    elapsed = time.monotonic() - t0
    time.sleep(0.3)  # closes and their aftermath belong to the connections
    cpu = tree_cpu_seconds(inst.proc.pid) - cpu0
    ok = r.get("ok", 0)
    if r.get("failed"):
        warnings.append(f"handshake client: {r['failed']} of {s.handshakes} failed: {r.get('errors')}")
    if r.get("resumed"):
        warnings.append(f"handshake client: {r['resumed']} connections resumed a session")
    if ok == 0:
        raise RuntimeError(f"no TLS connection completed: {r.get('errors')}")
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"us_per_conn": cpu / ok * 1e6, "conns_per_s": ok / elapsed if elapsed > 0 else 0.0,
            "server_cpu_util": cpu / elapsed if elapsed > 0 else 0.0, "failed": float(r.get("failed", 0))}


def run_tls_newconn(bench: Bench, inst: Instance, s: Settings,
                    warnings: list[str]) -> dict[str, float]:
    """Server CPU per full TLS handshake as `openssl s_time -new` makes them (TLS 1.3, no
    request, the client closes): the figure operators compare servers by."""
    _tls_version_warning(tls_probe(inst, "http/1.1"), warnings)
    loadgen.s_time(inst.tls_port, "1")  # warm-up
    time.sleep(0.3)
    cpu0, t0 = tree_cpu_seconds(inst.proc.pid), time.monotonic()
    r = loadgen.s_time(inst.tls_port, s.duration)
    elapsed = time.monotonic() - t0
    time.sleep(0.3)  # the last closes belong to the run
    cpu = tree_cpu_seconds(inst.proc.pid) - cpu0
    if r.connections == 0:
        raise RuntimeError(f"s_time made no connection:\n{r.raw[-1500:]}")
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"us_per_conn": cpu / r.connections * 1e6,
            "conns_per_s": r.connections / elapsed if elapsed > 0 else 0.0,
            "server_cpu_util": cpu / elapsed if elapsed > 0 else 0.0}


def run_tls_idle(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    return run_idle(bench, inst, s, warnings, tls=True)


# Server CPU during a load run (user + system of its process tree).
SERVER_CPU_METRICS = [
    Metric("us_per_req", "server CPU per request", "us", "lower", chart=False, fmt="{:.1f}"),
    Metric("server_cpu_util", "server CPU busy", "cores", None, chart=False, fmt="{:.2f}"),
]
# What wrk reports, and what an idle-connections run reports (plain or TLS).
WRK_METRICS = [
    Metric("rps", "req/s", "req/s", "higher"),
    Metric("p99_ms", "p99 latency", "ms", "lower", fmt="{:.2f}"),
    Metric("p50_ms", "p50 latency", "ms", "lower", chart=False, fmt="{:.2f}"),
    Metric("errors", "errors (non-2xx + socket)", "count", None, chart=False),
    *SERVER_CPU_METRICS,
]
IDLE_METRICS = [
    Metric("bytes_per_conn", "bytes/conn (Private)", "B", "lower"),
    Metric("bytes_per_conn_rss", "bytes/conn (RSS)", "B", "lower", chart=False),
    Metric("idle_conns", "idle connections held", "count", None, chart=False),
]

NEWCONN_METRICS = [
    Metric("us_per_conn", "server CPU per connection", "us", "lower"),
    Metric("conns_per_s", "connections/s (client-bound)", "conn/s", None, chart=False),
    Metric("server_cpu_util", "server CPU busy", "cores", None, chart=False, fmt="{:.2f}"),
]

SCENARIOS: list[Scenario] = [
    Scenario(
        name="small-keepalive",
        title="1 KiB pass-through, keep-alive (wrk -t1 -c64)",
        metrics=WRK_METRICS,
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
        metrics=IDLE_METRICS,
        run=run_idle,
        short="idle keep-alive connections",
        targets=[Target("bytes_per_conn", "<= nginx's bytes/conn", ref="nginx", max_ratio=1.0)],
    ),
    # ---- issue 3: TLS (ECDSA P-256 certificate, TLS 1.3) and HTTP/2 ------------------------------
    Scenario(
        name="h2-small",
        title="HTTP/2 over TLS, 1 KiB (h2load -t1 -c64 -m10)",
        metrics=[
            Metric("rps", "req/s", "req/s", "higher"),
            Metric("errors", "errors (failed + 4xx/5xx)", "count", None, chart=False),
            *SERVER_CPU_METRICS,
        ],
        run=run_h2_small,
        short="HTTP/2 over TLS, 1 KiB",
        targets=[Target("rps", ">= 1.0x nginx req/s", ref="nginx", min_ratio=1.0),
                 Target("rps", "goal: HAProxy's req/s (the one to reach)", ref="haproxy",
                        min_ratio=1.0, goal=True)],
    ),
    Scenario(
        name="tls-keepalive",
        title="HTTP/1.1 over TLS, 1 KiB, keep-alive (wrk -t1 -c64)",
        metrics=WRK_METRICS,
        run=run_tls_keepalive,
        short="HTTP/1.1 over TLS, keep-alive",
        targets=[Target("rps", ">= 1.0x HAProxy req/s", ref="haproxy", min_ratio=1.0)],
    ),
    Scenario(
        name="tls-handshake",
        title="new TLS connections (full handshake, one GET, server closes): server CPU",
        metrics=[*NEWCONN_METRICS,
                 Metric("failed", "failed connections", "count", None, chart=False)],
        run=run_tls_handshake,
        short="new TLS connection",
        targets=[Target("us_per_conn", "server CPU per new TLS connection <= nginx's",
                        ref="nginx", max_ratio=1.0)],
    ),
    Scenario(
        name="tls-idle",
        title="idle TLS keep-alive connections (process memory per connection)",
        metrics=IDLE_METRICS,
        run=run_tls_idle,
        short="idle TLS connections",
        targets=[Target("bytes_per_conn", "<= nginx's bytes/conn", ref="nginx", max_ratio=1.0)],
    ),
    # ---- issue 9: the same on the whole server CPU, as a client sees it ------------------------
    Scenario(
        name="small-keepalive-full",
        title="1 KiB pass-through, keep-alive (wrk -t1 -c64), whole server CPU",
        metrics=WRK_METRICS,
        run=run_small,
        short="1 KiB keep-alive, full core",
        targets=[Target("rps", ">= 1.0x HAProxy req/s on the full core", ref="haproxy",
                        min_ratio=1.0)],
        full_core=True,
    ),
    Scenario(
        name="tls-newconn-full",
        title="new TLS connections (openssl s_time -new: handshake only), whole server CPU",
        metrics=NEWCONN_METRICS,
        run=run_tls_newconn,
        short="TLS handshake (s_time), full core",
        targets=[Target("us_per_conn", "server CPU per s_time handshake <= nginx's", ref="nginx",
                        max_ratio=1.0)],
        full_core=True,
    ),
]

# Issue 10's cache scenarios (cache_scenarios.py imports this module's building blocks, all
# defined by now).
import cache_scenarios  # noqa: E402

SCENARIOS += cache_scenarios.SCENARIOS

assert {s.name for s in SCENARIOS} >= set(TLS_SCENARIOS) | set(CACHE_SCENARIOS)
assert {s.name for s in SCENARIOS if s.cache_values} == set(CACHE_SCENARIOS)

# Names --scenarios / BENCH_SCENARIOS accept besides the scenarios' own.
GROUPS = {
    "plain": [s.name for s in SCENARIOS
              if s.name not in TLS_SCENARIOS and s.name not in CACHE_SCENARIOS],
    "tls": [n for n in TLS_SCENARIOS if n not in CACHE_SCENARIOS],
    "full": [s.name for s in SCENARIOS if s.full_core and s.name not in CACHE_SCENARIOS],
    "cache": list(CACHE_SCENARIOS),
    "cache-full": [s.name for s in SCENARIOS if s.full_core and s.name in CACHE_SCENARIOS],
    "all": [s.name for s in SCENARIOS],
}


def select(names: list[str] | None) -> list[Scenario]:
    """The scenarios named (or in the groups named), in SCENARIOS order; all when none."""
    if not names:
        return SCENARIOS
    known = {s.name: s for s in SCENARIOS}
    wanted: set[str] = set()
    for n in names:
        if n in GROUPS:
            wanted.update(GROUPS[n])
        elif n in known:
            wanted.add(n)
        else:
            raise SystemExit(f"unknown scenario {n!r}; known: {', '.join(known)}; "
                             f"groups: {', '.join(GROUPS)}")
    return [s for s in SCENARIOS if s.name in wanted]
