# SPDX-License-Identifier: MIT
"""Side-by-side load bench: gatehouse vs nginx vs HAProxy (and nghttpx in the TLS and HTTP/2
scenarios); see bench/README.md.

Usually started through bench/run.sh, which installs missing tools and raises the open-files limit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import scenarios as sc_mod
from procs import CLIENT_CPU, SERVER_CPU, ForeignLoad, Launcher, wait_quiet
from quota import SERVER_QUOTA
from report import Results
from servers import BENCH_DIR, DEFAULT_SERVERS, REPO_DIR, SERVERS, Bench, snapshot_gatehouse, spec


# Before each run, wait up to this many seconds for other processes to leave the CPUs alone.
QUIET_WAIT = 120.0
# Foreign load (in cores) during a run above which the run is done again, then flagged.
BUSY_CORES = 0.25
BUSY_RETRIES = 2


def env_settings() -> tuple[sc_mod.Settings, int]:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    # The default run (all 7 scenarios, 3-4 servers each) stays around 6 minutes on the 2-CPU
    # bench machine; BENCH_ROUNDS=3 BENCH_DURATION=10s BENCH_WARMUP=2s is the longer, steadier one.
    duration = os.environ.get("BENCH_DURATION", "3s" if quick else "5s")
    warmup = os.environ.get("BENCH_WARMUP", "1s" if quick else "1s")
    rounds = int(os.environ.get("BENCH_ROUNDS", "1" if quick else "2"))
    idle = int(os.environ.get("BENCH_IDLE_CONNS", "2000" if quick else "9000"))
    conns = int(os.environ.get("BENCH_CONNS", "64"))
    big = int(os.environ.get("BENCH_BIG_BYTES", str(2**30)))
    handshakes = int(os.environ.get("BENCH_HANDSHAKES", "1000" if quick else "3000"))
    hs_clients = int(os.environ.get("BENCH_HANDSHAKE_CLIENTS", "8"))
    objects = int(os.environ.get("BENCH_CACHE_OBJECTS", "100000" if quick else "1000000"))
    st_clients = int(os.environ.get("BENCH_STAMPEDE_CLIENTS", "1000"))
    st_urls = int(os.environ.get("BENCH_STAMPEDE_URLS", "3" if quick else "5"))
    st_delay = float(os.environ.get("BENCH_STAMPEDE_DELAY", "0.2"))
    global QUIET_WAIT, BUSY_RETRIES
    BUSY_RETRIES = int(os.environ.get("BENCH_BUSY_RETRIES", "0" if quick else "2"))
    QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "5" if quick else "20"))
    return sc_mod.Settings(duration, "" if warmup in ("0", "0s") else warmup, conns, idle, big,
                           handshakes=handshakes, handshake_clients=hs_clients,
                           cache_objects=objects, stampede_clients=st_clients,
                           stampede_urls=st_urls, stampede_delay=st_delay), rounds


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def describe(settings: sc_mod.Settings, rounds: int, servers: list[str], nofile: int,
             scenarios: list[sc_mod.Scenario]) -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False).stdout.strip() or "?"
    lines = [
        f"date:      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine:   {cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}",
        f"pinning:   server under test on CPU {SERVER_CPU}; wrk, h2load, curl, idle and handshake "
        f"clients and origin nginx "
        f"on CPU {CLIENT_CPU}; {SERVER_QUOTA.describe()}",
        f"settings:  rounds={rounds} duration={settings.duration} warmup={settings.warmup or 'none'} "
        f"wrk -t1 -c{settings.connections}; h2load -t1 -c{settings.connections} "
        f"-m{settings.h2_streams}; idle conns={settings.idle_conns}; "
        f"TLS handshakes={settings.handshakes} ({settings.handshake_clients} at a time); "
        f"stream {settings.big_size} bytes; nofile={nofile}; "
        f"waits up to {QUIET_WAIT:.0f}s for a quiet machine before each run, "
        f"redoes a run disturbed by other processes up to {BUSY_RETRIES}x; nice {os.nice(0)}",
        f"repo:      {rev}",
    ]
    if any(sc.cache_values for sc in scenarios):
        lines.insert(4, f"cache:     origin /c/... with Cache-Control: public, max-age=3600; "
                     f"cache-memory {settings.cache_objects} objects; cold-stampede "
                     f"{settings.stampede_clients} clients x {settings.stampede_urls} URLs, "
                     f"backend delay {settings.stampede_delay:g}s")
    lines.append("tls:       one self-signed ECDSA P-256 certificate for every server; TLS 1.2 + 1.3, "
                 "ALPN h2, http/1.1; each server's default ciphers")
    for s in servers:
        # The scenarios of this run it sits out, when it sits out some.
        names = [sc.name for sc in scenarios]
        only = [n for n in names if spec(s).supports(n)]
        out = [n for n in names if n not in only]
        note = ""
        if out:
            note = f" [only {', '.join(only)}]" if len(only) <= len(out) else f" [not in {', '.join(out)}]"
        lines.append(f"{s + ':':10} {spec(s).version()}{note}")
    return "\n".join(lines)


def measure(bench: Bench, launcher: Launcher, scenario: sc_mod.Scenario, name: str,
            settings: sc_mod.Settings, warnings: list[str]) -> dict[str, float]:
    """One figure: a fresh server, the scenario, the server stopped. A run during which other
    processes took more than BUSY_CORES is done again (up to BUSY_RETRIES times); the least
    disturbed attempt is kept and flagged if it was still disturbed."""
    best: tuple[float, dict[str, float], list[str]] | None = None
    for attempt in range(1 + BUSY_RETRIES):
        notes: list[str] = []
        inst = bench.start(spec(name), scenario.full_core,
                           scenario.cache_values(settings) if scenario.cache_values else None)
        try:
            roots = lambda: [p.pid for p in launcher.procs]  # noqa: E731
            if QUIET_WAIT > 0:
                wait_quiet(roots, QUIET_WAIT)
            with ForeignLoad(roots) as load:
                values = scenario.run(bench, inst, settings, notes)
        finally:
            bench.stop(inst)
        values["foreign_cpu"] = load.cores
        if best is None or load.cores < best[0]:
            best = (load.cores, values, notes)
        if load.cores < BUSY_CORES:
            break
    cores, values, notes = best
    warnings += notes
    if cores >= BUSY_CORES:
        warnings.append(f"machine busy during the run: other processes used {cores:.2f} cores")
    return values


def chart_notes(header: str) -> str:
    """The run's context for the chart's spare panel: the header, wrapped narrow."""
    import textwrap
    out = []
    for line in header.splitlines():
        key, _, val = line.partition(":")
        out += textwrap.wrap(f"{key}: {' '.join(val.split())}", 62, subsequent_indent="    ")
    return "\n".join(out)


def report_text(header: str, rounds: int, results: Results, extra: str) -> str:
    """latest.txt: context, the table, the issue's targets, then |extra| (skips, warnings)."""
    report = [header, "", f"median of {rounds} run(s) per figure; ratios are {results.base()} / "
              "each other server; spread: the noisiest server's (max - min) / median", "",
              results.table()]
    targets = results.target_lines()
    if targets:
        report += ["", "targets (issues 2, 3, 9 and 10):", *targets]
    return "\n".join(report) + extra


def replot(out: str) -> int:
    """Rebuilds latest.csv, latest.txt and latest.png from the per-scenario CSVs (keeping
    latest.txt's header and warnings)."""
    import csv
    names = [s.name for s in sc_mod.SCENARIOS if os.path.exists(os.path.join(out, f"{s.name}.csv"))]
    scenarios = sc_mod.select(names)
    rows = []
    for sc in scenarios:
        with open(os.path.join(out, f"{sc.name}.csv")) as f:
            rows += [(sc.name, r) for r in csv.DictReader(f)]
    seen = {r["server"] for _, r in rows}
    order = [s.name for s in SERVERS if s.name in seen]
    results = Results(scenarios, order)
    for name, r in rows:
        results.add(int(r["round"]), name, r["server"], {r["metric"]: float(r["value"])})
    rounds = max(int(r["round"]) for _, r in rows)
    header, extra = "", ""
    try:
        with open(os.path.join(out, "latest.txt")) as f:
            old = f.read().rstrip("\n")
        header = old.split("\n\n", 1)[0]
        cuts = [i for i in (old.find("\n\nskipped:"), old.find("\n\nwarnings:")) if i >= 0]
        extra = old[min(cuts):] if cuts else ""
    except OSError:
        pass
    text = report_text(header, rounds, results, extra)
    print(text)
    results.write_csv(out)
    with open(os.path.join(out, "latest.txt"), "w") as f:
        f.write(text + "\n")
    tmp = tempfile.mkdtemp(prefix="gatehouse-replot-")
    try:
        results.chart(os.path.join(out, "latest.png"), tmp,
                      f"gatehouse bench: server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}, "
                      f"median of {rounds}; under each other server: {results.base()} / that server",
                      chart_notes(header))
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", help="comma-separated servers to run (default: "
                    f"{','.join(DEFAULT_SERVERS)}; also: {','.join(s.name for s in SERVERS)})")
    ap.add_argument("--scenarios", default=os.environ.get("BENCH_SCENARIOS") or None,
                    help="comma-separated scenarios or groups (default: $BENCH_SCENARIOS, else "
                    "all): " + ",".join(s.name for s in sc_mod.SCENARIOS) + "; groups: "
                    + ",".join(sc_mod.GROUPS))
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT", os.path.join(BENCH_DIR, "results")),
                    help="results directory (default bench/results)")
    ap.add_argument("--replot", action="store_true",
                    help="only rebuild latest.csv and latest.png from the per-scenario CSVs in --out")
    args = ap.parse_args()
    if args.replot:
        return replot(args.out)

    settings, rounds = env_settings()
    servers = args.only.split(",") if args.only else list(DEFAULT_SERVERS)
    for s in servers:
        spec(s)  # unknown names fail here
    scenarios = sc_mod.select(args.scenarios.split(",") if args.scenarios else None)

    if not any(spec(s).supports(sc.name) for s in servers for sc in scenarios):
        print("error: none of these servers takes part in these scenarios", file=sys.stderr)
        return 1

    skipped = []
    for s in list(servers):
        why = spec(s).missing()
        if why:
            print(f"warning: skipping {s}: {why}", file=sys.stderr)
            skipped.append(f"{s}: {why}")
            servers.remove(s)
    if not servers:
        print("error: no server to bench", file=sys.stderr)
        return 1

    nofile = raise_nofile(settings.idle_conns + 1000)
    if settings.idle_conns + 500 > nofile:
        capped = max(100, nofile - 500)
        print(f"warning: open-files limit {nofile}: idle connections capped at {capped}",
              file=sys.stderr)
        settings = dataclasses.replace(settings, idle_conns=capped)

    def on_term(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    tmp = os.environ.get("BENCH_TMP") or tempfile.mkdtemp(prefix="gatehouse-bench-")
    if "gatehouse" in servers:
        snapshot_gatehouse(tmp)
    launcher = Launcher(tmp)
    bench = Bench(tmp, launcher, nofile)
    results = Results(scenarios, servers)
    header = describe(settings, rounds, servers, nofile, scenarios)
    print(header, flush=True)
    print(f"temp dir:  {tmp}\n", flush=True)
    t0 = time.monotonic()
    interrupted = False
    try:
        try:
            bench.start_origin(settings.big_size)
            if any(sc.cache_values for sc in scenarios):
                bench.start_slow_backend(settings.stampede_delay)
        except Exception as e:  # noqa: BLE001
            print(f"error: origin did not start: {e}", file=sys.stderr)
            return 1
        for r in range(rounds):
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for scenario in scenarios:
                for name in order:
                    if not spec(name).supports(scenario.name):
                        continue  # shown as "-" in the table
                    warnings: list[str] = []
                    try:
                        values = measure(bench, launcher, scenario, name, settings, warnings)
                        results.add(r + 1, scenario.name, name, values)
                        shown = " ".join(f"{m.key}={m.fmt.format(values[m.key])}"
                                         for m in scenario.metrics if m.key in values)
                    except KeyboardInterrupt:
                        raise
                    except Exception as e:  # noqa: BLE001 - one failed run must not end the bench
                        warnings.append(f"run failed: {e}")
                        results.failed.add((scenario.name, name))
                        if os.environ.get("BENCH_DEBUG"):
                            traceback.print_exc()
                        shown = "FAILED"
                    print(f"[round {r + 1}/{rounds} {time.monotonic() - t0:6.0f}s] "
                          f"{scenario.name:16} {name:10} {shown}", flush=True)
                    for w in warnings:
                        print(f"    ! {w}", flush=True)
                        results.warnings.append((r + 1, scenario.name, name, w))
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping servers", file=sys.stderr)
    finally:
        launcher.stop_all()
        SERVER_QUOTA.cleanup()

    if not results.samples:
        return 130 if interrupted else 1
    extra = []
    if skipped:
        extra += ["", "skipped:", *[f"  {s}" for s in skipped]]
    if results.warnings:
        extra += ["", "warnings:", *[f"  round {r} {sc} {sv}: {w.splitlines()[0]}"
                                     for r, sc, sv, w in results.warnings]]
    text = report_text(header, rounds, results, "\n".join(extra))
    print("\n" + text[len(header) + 2:] if not interrupted else "\n" + text)
    if interrupted:
        return 130
    out = args.out
    files = results.write_csv(out)
    with open(os.path.join(out, "latest.txt"), "w") as f:
        f.write(text + "\n")
    files.append(os.path.join(out, "latest.txt"))
    try:
        subtitle = (f"gatehouse bench: server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}, "
                    f"median of {rounds}; under each other server: {results.base()} / that server")
        png = results.chart(os.path.join(out, "latest.png"), tmp, subtitle, chart_notes(header))
        if png:
            files.append(png)
    except Exception as e:  # noqa: BLE001
        print(f"warning: chart not written: {e}", file=sys.stderr)
    print("\nwrote " + ", ".join(os.path.relpath(f, REPO_DIR) for f in files))
    print(f"bench took {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
