# SPDX-License-Identifier: MIT
"""Load generators pinned to the client CPU: wrk (HTTP/1.1 keep-alive, plain or TLS), h2load
(HTTP/2 over TLS; HTTP/1.1 with a new TLS connection per request) and curl (one big download).
Each one runs under a deadline well past its own duration, so a server that stalls or drops every
connection makes the run fail instead of hanging the bench."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from procs import CLIENT_CPU, pinned

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def seconds(duration: str) -> float:
    """'10s', '1500ms', '2m', '3' (seconds) -> seconds ("" -> 0)."""
    if not duration:
        return 0.0
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)?", duration.strip())
    if not m:
        raise ValueError(f"unparsable duration {duration!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"] / 1e3


def _run(argv: list[str], deadline: float, what: str) -> subprocess.CompletedProcess:
    """Runs a load generator; kills it (and fails) if it outlives |deadline| seconds."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=deadline)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"")
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        raise RuntimeError(f"{what} still running after {deadline:.0f}s, killed:\n{out[-2000:]}")


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    raw: str


def parse_wrk(out: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    pct = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M)}
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=pct.get("50", float("nan")),
        p99_ms=pct.get("99", float("nan")),
        requests=int(total.group(1)) if total else 0,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(x) for x in errs.groups()) if errs else 0,
        raw=out,
    )


def wrk(url: str, duration: str, connections: int = 64, threads: int = 1,
        timeout: str = "5s") -> WrkResult:
    argv = pinned(CLIENT_CPU, ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}",
                               f"--timeout={timeout}", "--latency", url])
    p = _run(argv, seconds(duration) + 30 + 2 * seconds(timeout), "wrk")
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr}{p.stdout}")
    return parse_wrk(p.stdout)


@dataclass
class H2loadResult:
    rps: float          # h2load's req/s (requests done / time)
    seconds: float      # h2load's "finished in"
    total: int
    done: int
    succeeded: int
    failed: int
    errored: int
    timeouts: int
    status: dict[str, int]   # "2xx" .. "5xx" -> count
    protocol: str            # "Application protocol:" (h2, http/1.1)
    tls: str                 # "TLS Protocol: ..., Cipher: ..., Server Temp Key: ..."
    raw: str

    @property
    def good(self) -> int:
        """Requests answered 2xx or 3xx."""
        return self.status.get("2xx", 0) + self.status.get("3xx", 0)

    @property
    def errors(self) -> int:
        """Failed requests plus answers that were not 2xx/3xx."""
        return self.failed + self.status.get("4xx", 0) + self.status.get("5xx", 0)


def parse_h2load(out: str) -> H2loadResult:
    fin = re.search(r"finished in ([\d.]+)(us|ms|s|m|h), ([\d.]+) req/s", out)
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if not fin or not req:
        raise RuntimeError(f"h2load printed no result:\n{out[-2000:]}")
    status = {f"{m.group(2)}xx": int(m.group(1))
              for m in re.finditer(r"(\d+) ([2-5])xx", out.split("status codes:", 1)[-1][:200])}
    proto = re.search(r"Application protocol: (\S+)", out)
    tls = re.search(r"^(TLS Protocol: .*\n(?:Cipher: .*\n)?(?:Server Temp Key: .*)?)", out, re.M)
    total, _started, done, ok, failed, errored, timeouts = (int(x) for x in req.groups())
    return H2loadResult(
        rps=float(fin.group(3)), seconds=_ms(fin.group(1) + fin.group(2)) / 1e3, total=total,
        done=done, succeeded=ok, failed=failed, errored=errored, timeouts=timeouts, status=status,
        protocol=proto.group(1) if proto else "", raw=out,
        tls=" ".join(tls.group(1).split()) if tls else "")


def h2load(url: str, *, clients: int, streams: int = 1, duration: str = "", warmup: str = "",
           requests: int = 0, h1: bool = False, headers: tuple[str, ...] = (),
           deadline: float = 0) -> H2loadResult:
    """h2load with one thread on the client CPU. Timing-based with |duration| (and |warmup|:
    connections are made during it, outside the measured time), else |requests| in all.
    Without |h1| it offers only h2 in ALPN; with it only http/1.1."""
    argv = ["h2load", "-t1", f"-c{clients}", f"-m{streams}"]
    argv += ["--h1"] if h1 else ["--npn-list=h2"]
    if duration:
        argv.append(f"--duration={duration}")
        if warmup:
            argv.append(f"--warm-up-time={warmup}")
    else:
        argv.append(f"--requests={requests}")
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    if not deadline:
        deadline = seconds(duration) + seconds(warmup) + 30 if duration else 120
    p = _run(pinned(CLIENT_CPU, argv), deadline, "h2load")
    try:
        return parse_h2load(p.stdout)
    except RuntimeError:
        raise RuntimeError(f"h2load failed ({p.returncode}): {p.stderr.strip()[-1500:]}\n"
                           f"{p.stdout[-1500:]}") from None


@dataclass
class Download:
    status: int
    size: int
    seconds: float
    mb_per_s: float  # 10^6 bytes per second


def curl_download(url: str, max_seconds: int = 600) -> Download:
    argv = pinned(CLIENT_CPU, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(max_seconds),
                               "-w", "%{http_code} %{size_download} %{time_total}", url])
    p = _run(argv, max_seconds + 30, "curl")
    if p.returncode != 0:
        raise RuntimeError(f"curl failed ({p.returncode}): {p.stderr.strip()} [{p.stdout.strip()}]")
    code, size, secs = p.stdout.split()
    size_i, secs_f = int(size), float(secs)
    return Download(int(code), size_i, secs_f, size_i / secs_f / 1e6 if secs_f > 0 else 0.0)


@dataclass
class StimeResult:
    connections: int  # connections completed (each a full handshake)
    raw: str


def s_time(port: int, duration: str) -> StimeResult:
    """`openssl s_time -new` for |duration| against 127.0.0.1:|port|, pinned to the client CPU:
    a new TLS connection (full handshake, no resumption, no request) after another."""
    argv = ["openssl", "s_time", "-new", "-connect", f"127.0.0.1:{port}",
            "-time", str(max(1, int(seconds(duration))))]
    p = _run(pinned(CLIENT_CPU, argv), seconds(duration) + 30, "s_time")
    m = re.search(r"^(\d+) connections in [\d.]+s", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"s_time failed ({p.returncode}): {p.stderr[-1500:]}{p.stdout[-1500:]}")
    return StimeResult(int(m.group(1)), p.stdout)


@dataclass
class FillResult:
    responses: int
    not_200: int
    seconds: float


def wrk_fill(base_url: str, prefix: str, count: int, connections: int = 64,
             max_seconds: float = 0) -> FillResult:
    """|count| GETs, one for each of base_url + prefix + 0 .. count-1 (harness/fill.lua), on
    |connections| keep-alive connections; wrk exits when the last response is in."""
    import os
    import time
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fill.lua")
    limit = max_seconds or 120 + count / 500
    argv = pinned(CLIENT_CPU, ["wrk", "-t1", f"-c{min(connections, count)}", f"-d{int(limit)}s",
                               "--timeout=10s", "-s", script, base_url, "--", prefix, str(count)])
    t0 = time.monotonic()
    p = _run(argv, limit + 30, "wrk (fill)")
    elapsed = time.monotonic() - t0
    m = re.search(r"^fill: (\d+) responses, (\d+) not 200", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk fill failed ({p.returncode}): {p.stderr[-1500:]}{p.stdout[-1500:]}")
    return FillResult(int(m.group(1)), int(m.group(2)), elapsed)
