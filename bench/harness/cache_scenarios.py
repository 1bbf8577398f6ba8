# SPDX-License-Identifier: MIT
"""Issue 10's cache scenarios: hits (1 KiB, 256 KiB, HTTP/2 over TLS), a cold-URL stampede and the
memory per stored object, with gatehouse, nginx (proxy_cache), HAProxy (its cache) and Varnish as
columns, each run with its cache config (ServerSpec.cache_template).

Hits are proved by the origin's request counter (nginx stub_status): the hit ratio of a measured
run is the share of its requests the origin never saw. The origin answers /c/... with
`Cache-Control: public, max-age=3600`; the slow counting backend (count_backend.py) answers
/slow/... after a delay and counts the requests for each path.

scenarios.py imports this module at its end and appends SCENARIOS to its own: import scenarios,
not this module, first.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time

import loadgen
from procs import CLIENT_CPU, pinned, tree_memory
from scenarios import (SERVER_CPU_METRICS, WRK_METRICS, Metric, Scenario, Settings, Target,
                       _wrk_keepalive, h2load_run)
from servers import OBJ_BODY, Bench, Instance

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
MiB = 2**20
BIG = 256 * 1024  # body of /c/256k


def hit_values(s: Settings) -> dict[str, object]:
    """The cache sizes of the hit and stampede scenarios: 256 MiB everywhere (nginx's is on disk;
    its key zone holds ~8,000 keys per MiB)."""
    return {"CACHE_MEMORY": "256MiB", "VARNISH_STORAGE": "256m", "HAPROXY_CACHE_MB": 256,
            "NGINX_KEYS_ZONE": "16m", "NGINX_CACHE_MAX": "1g"}


def memory_values(s: Settings) -> dict[str, object]:
    """cache-memory's: room for every object with a wide margin, so nothing is evicted (gatehouse
    and Varnish take memory as objects arrive, not up front)."""
    mib = max(256, s.cache_objects * 4096 // MiB)
    return {**hit_values(s), "CACHE_MEMORY": f"{mib}MiB", "VARNISH_STORAGE": f"{mib}m"}


def _prime(inst: Instance, path: str, tls: bool = False) -> None:
    """One GET of |path|, so the measured runs are hits from their first request."""
    c = (http.client.HTTPSConnection("127.0.0.1", inst.tls_port, timeout=10,
                                     context=_insecure()) if tls else
         http.client.HTTPConnection("127.0.0.1", inst.port, timeout=10))
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path} answered {r.status}")
    finally:
        c.close()


def _insecure():
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ---- hits ---------------------------------------------------------------------------------------

def run_hit_1k(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    _prime(inst, "/c/1k")
    return _wrk_keepalive(inst, inst.url("/c/1k"), s, warnings, counter=bench.origin_requests)


def run_hit_256k(bench: Bench, inst: Instance, s: Settings,
                 warnings: list[str]) -> dict[str, float]:
    _prime(inst, "/c/256k")
    v = _wrk_keepalive(inst, inst.url("/c/256k"), s, warnings, counter=bench.origin_requests)
    v["mib_s"] = v["rps"] * BIG / MiB  # bodies only (a head is ~0.1% of one)
    return v


def run_h2_hit(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    _prime(inst, "/c/1k", tls=True)
    return h2load_run(inst, inst.tls_url("/c/1k"), s, warnings, counter=bench.origin_requests)


# ---- cold-URL stampede --------------------------------------------------------------------------

def run_stampede(bench: Bench, inst: Instance, s: Settings,
                 warnings: list[str]) -> dict[str, float]:
    """stampede_clients connections ask for one cold /slow/ URL at the same moment, for each of
    stampede_urls distinct URLs in turn; the slow backend counts what reached it."""
    token = f"{inst.name}-{os.getpid()}-{random.getrandbits(32):08x}"
    paths = [f"/slow/{token}-{i}" for i in range(s.stampede_urls)]
    per_url = 30 + 2 * s.stampede_delay
    argv = pinned(CLIENT_CPU, [sys.executable, os.path.join(HARNESS_DIR, "stampede_client.py"),
                               "127.0.0.1", str(inst.port), str(s.stampede_clients),
                               str(per_url), *paths])
    p = subprocess.run(argv, capture_output=True, text=True, check=False,
                       timeout=60 + per_url * len(paths))
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"stampede client failed ({p.returncode}): {p.stderr[-1500:]}") from None
    if out["connected"] < s.stampede_clients:
        warnings.append(f"stampede: {out['connected']} of {s.stampede_clients} clients connected "
                        f"({out['connect_errors']})")
    if out["connected"] == 0:
        raise RuntimeError("stampede: no client could connect")
    per_1k, failed, seconds = [], 0, []
    for u in out["urls"]:
        asked = u["ok"] + u["failed"]
        backend = bench.slow_count(u["path"])
        per_1k.append(backend / asked * 1000 if asked else float("nan"))
        failed += u["failed"]
        seconds.append(u["seconds"])
        if u["failed"]:
            warnings.append(f"stampede {u['path']}: {u['failed']} of {asked} failed: {u['errors']}")
    if not any(u["ok"] for u in out["urls"]):
        raise RuntimeError(f"stampede: no request succeeded: {out['urls'][0]['errors']}")
    if not inst.proc.alive():
        warnings.append(f"server exited during the run:\n{inst.proc.log_tail()}")
    return {"backend_per_1k_max": max(per_1k), "backend_per_1k_mean": statistics.mean(per_1k),
            "failed": float(failed), "seconds": statistics.median(seconds),
            "clients": float(out["connected"])}


# ---- memory per stored object -------------------------------------------------------------------

def _origin_head_bytes(bench: Bench, path: str) -> int:
    """Bytes of the origin's response head for |path| (status line to the blank line): what a
    cache stores beside the body, give or take the hop-by-hop fields."""
    with socket.create_connection(("127.0.0.1", bench.origin_port), timeout=10) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                raise RuntimeError("origin closed before the end of its response head")
            data += chunk
    return data.index(b"\r\n\r\n") + 4


def _sample_hits(bench: Bench, inst: Instance, prefix: str, n: int, k: int) -> float:
    """Share of |k| objects, picked at random among the |n| stored, served without the origin."""
    before = bench.origin_requests()
    c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=10)
    try:
        for i in random.sample(range(n), min(k, n)):
            c.request("GET", f"{prefix}{i}")
            r = c.getresponse()
            r.read()
    finally:
        c.close()
    return 1 - (bench.origin_requests() - before) / min(k, n)


def run_memory(bench: Bench, inst: Instance, s: Settings, warnings: list[str]) -> dict[str, float]:
    """Stores cache_objects distinct small objects (100-byte bodies) through the server, then
    RSS growth per object, and that minus the bytes of each one's body and head."""
    n = s.cache_objects
    token = f"{random.getrandbits(32):08x}"
    # Lazily built state (allocator arenas, the first index pages) belongs to the "before".
    warm = loadgen.wrk_fill(inst.url("/"), f"/c/obj/warm{token}-", min(1000, n), s.connections)
    if warm.not_200:
        raise RuntimeError(f"warm-up: {warm.not_200} of {warm.responses} responses were not 200")
    time.sleep(0.5)
    before, origin0 = tree_memory(inst.proc.pid), bench.origin_requests()
    prefix = f"/c/obj/{token}-"
    fill = loadgen.wrk_fill(inst.url("/"), prefix, n, s.connections)
    fetched = bench.origin_requests() - origin0
    if fill.not_200:
        warnings.append(f"fill: {fill.not_200} of {fill.responses} responses were not 200")
    time.sleep(1.0)
    after = tree_memory(inst.proc.pid)
    hits = _sample_hits(bench, inst, prefix, n, 1000)
    if not inst.proc.alive():
        raise RuntimeError(f"server exited during the run:\n{inst.proc.log_tail()}")
    if hits < 0.9:
        raise RuntimeError(f"only {hits:.0%} of 1000 sampled objects were served from the cache "
                           f"(the origin saw {fetched} requests for {n} objects): not stored, "
                           f"nothing to measure")
    stored = _origin_head_bytes(bench, f"{prefix}0") + len(OBJ_BODY)
    growth = (after.rss - before.rss) / n
    return {"overhead": growth - stored, "rss_per_obj": growth, "stored_bytes": float(stored),
            "private_per_obj": (after.private - before.private) / n,
            "sampled_hits": 100.0 * hits, "fill_rps": n / fill.seconds if fill.seconds else 0.0,
            "rss_after_mib": after.rss / MiB}


# ---- the scenarios ------------------------------------------------------------------------------

HIT_METRIC = Metric("hit_ratio", "hit ratio (origin counter)", "%", "higher", chart=False,
                    fmt="{:.2f}")
HIT_WRK_METRICS = [*WRK_METRICS, HIT_METRIC]
HIT_256K_METRICS = [Metric("mib_s", "throughput (bodies)", "MiB/s", "higher"),
                    *[m if m.key != "rps" else Metric("rps", "req/s", "req/s", "higher", chart=False)
                      for m in WRK_METRICS], HIT_METRIC]
H2_HIT_METRICS = [Metric("rps", "req/s", "req/s", "higher"),
                  Metric("errors", "errors (failed + 4xx/5xx)", "count", None, chart=False),
                  *SERVER_CPU_METRICS, HIT_METRIC]
BEST = ("haproxy", "nginx", "varnish")


def _hit_1k_targets() -> list[Target]:
    return [Target("rps", ">= 1.0x HAProxy req/s", ref="haproxy", min_ratio=1.0),
            Target("us_per_req", "server CPU per request <= HAProxy's", ref="haproxy",
                   max_ratio=1.0),
            Target("rps", ">= 2x nginx req/s", ref="nginx", min_ratio=2.0),
            Target("rps", ">= 2x Varnish req/s", ref="varnish", min_ratio=2.0),
            Target("p99_ms", "p99 <= HAProxy's", ref="haproxy", max_ratio=1.0)]


def _hit_256k_targets() -> list[Target]:
    return [Target("mib_s", ">= 1.0x the best of HAProxy, nginx, Varnish MiB/s", best_of=BEST,
                   min_ratio=1.0)]


def _h2_hit_targets() -> list[Target]:
    return [Target("rps", ">= 1.0x HAProxy req/s", ref="haproxy", min_ratio=1.0)]


def _variants(name: str, title: str, short: str, metrics: list[Metric], run, targets) -> list[Scenario]:
    """The scenario under the CPU quota and, as NAME-full, on the whole server CPU."""
    return [Scenario(name=name, title=title, metrics=metrics, run=run, short=short,
                     targets=targets(), cache_values=hit_values),
            Scenario(name=f"{name}-full", title=f"{title}, whole server CPU", metrics=metrics,
                     run=run, short=f"{short}, full core", targets=targets(), full_core=True,
                     cache_values=hit_values)]


SCENARIOS: list[Scenario] = [
    *_variants("cache-hit-1k", "cache hits, 1 KiB, keep-alive (wrk -t1 -c64)", "1 KiB cache hits",
               HIT_WRK_METRICS, run_hit_1k, _hit_1k_targets),
    *_variants("cache-hit-256k", "cache hits, 256 KiB, keep-alive (wrk -t1 -c64)",
               "256 KiB cache hits", HIT_256K_METRICS, run_hit_256k, _hit_256k_targets),
    *_variants("h2-tls-hit", "cache hits, HTTP/2 over TLS, 1 KiB (h2load -t1 -c64 -m10)",
               "HTTP/2 TLS cache hits", H2_HIT_METRICS, run_h2_hit, _h2_hit_targets),
    Scenario(
        name="cold-stampede",
        title="cold-URL stampede: concurrent clients ask for one cold URL at once (slow backend)",
        metrics=[
            Metric("backend_per_1k_max", "backend requests per 1,000 clients (worst URL)", "req",
                   "lower", fmt="{:.1f}"),
            Metric("backend_per_1k_mean", "backend requests per 1,000 clients (mean)", "req",
                   "lower", chart=False, fmt="{:.1f}"),
            Metric("failed", "failed requests", "count", None, chart=False),
            Metric("seconds", "time to answer all (median URL)", "s", "lower", chart=False,
                   fmt="{:.2f}"),
            Metric("clients", "clients", "count", None, chart=False),
        ],
        run=run_stampede,
        short="cold-URL stampede",
        targets=[Target("backend_per_1k_max", "1 backend request per 1,000 concurrent clients",
                        max_abs=1.0, inclusive=True)],
        full_core=True,
        cache_values=hit_values,
    ),
    Scenario(
        name="cache-memory",
        title="memory per stored object (distinct URLs, 100-byte bodies)",
        metrics=[
            Metric("overhead", "RSS per object beyond body + head", "B", "lower"),
            Metric("rss_per_obj", "RSS growth per object", "B", "lower", chart=False),
            Metric("stored_bytes", "body + head bytes per object", "B", None, chart=False),
            Metric("private_per_obj", "Private growth per object", "B", "lower", chart=False),
            Metric("sampled_hits", "sampled objects still cached", "%", None, chart=False,
                   fmt="{:.1f}"),
            Metric("fill_rps", "fill rate (misses)", "req/s", None, chart=False),
            Metric("rss_after_mib", "RSS after the fill", "MiB", None, chart=False),
        ],
        run=run_memory,
        short="memory per cached object",
        targets=[Target("overhead", "<= 256 B per object beyond bodies and headers",
                        max_abs=256.0, inclusive=True)],
        full_core=True,
        cache_values=memory_values,
    ),
]
