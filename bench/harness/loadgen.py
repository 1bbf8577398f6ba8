# SPDX-License-Identifier: MIT
"""Load generators pinned to the client CPU: wrk (HTTP/1.1 keep-alive) and curl (one big download).
h2load (HTTP/2, TLS) goes here too when those scenarios arrive."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from procs import CLIENT_CPU, pinned

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


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
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr}{p.stdout}")
    return parse_wrk(p.stdout)


@dataclass
class Download:
    status: int
    size: int
    seconds: float
    mb_per_s: float  # 10^6 bytes per second


def curl_download(url: str, max_seconds: int = 600) -> Download:
    argv = pinned(CLIENT_CPU, ["curl", "-sS", "-o", "/dev/null", "--max-time", str(max_seconds),
                               "-w", "%{http_code} %{size_download} %{time_total}", url])
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"curl failed ({p.returncode}): {p.stderr.strip()} [{p.stdout.strip()}]")
    code, size, secs = p.stdout.split()
    size_i, secs_f = int(size), float(secs)
    return Download(int(code), size_i, secs_f, size_i / secs_f / 1e6 if secs_f > 0 else 0.0)
