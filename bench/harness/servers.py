# SPDX-License-Identifier: MIT
"""The servers under test, and the origin behind them.

Adding a server (Varnish, ...) is one config template under bench/conf/ and one entry in SERVERS:
how to render its config, the command line that runs it in the foreground, its version and,
optionally, the scenarios it takes part in. Every server is started fresh for each measurement,
pinned to SERVER_CPU, with its config, pid and temporary files in its own directory under the
bench's temporary directory. Every config has two listeners: plain HTTP on @PORT@, and TLS
(TLS 1.2 + 1.3, ALPN h2 and http/1.1, the bench's ECDSA P-256 certificate) on @TLS_PORT@.
"""

from __future__ import annotations

import grp
import itertools
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from procs import CLIENT_CPU, SERVER_CPU, Launcher, Proc, free_port, pinned, wait_ready
from quota import SERVER_QUOTA

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(BENCH_DIR)
CONF_DIR = os.path.join(BENCH_DIR, "conf")
HARNESS_DIR = os.path.join(BENCH_DIR, "harness")
# The body of every cache-memory object (/c/obj/NAME on the origin): 100 bytes.
OBJ_BODY = b"o" * 100


def render(template: str, out_path: str, values: dict[str, object]) -> str:
    """Copies bench/conf/|template| to |out_path| with every @KEY@ replaced by values[KEY]."""
    with open(os.path.join(CONF_DIR, template)) as f:
        text = f.read()
    text = re.sub(r"@([A-Z_]+)@", lambda m: str(values[m.group(1)]), text)
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


@dataclass
class Instance:
    """One started server: where it listens and its process (the root of its process tree)."""

    name: str
    port: int
    proc: Proc
    prefix: str
    tls_port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}{path}"


@dataclass
class Env:
    """What a server needs to know to render its config."""

    prefix: str       # its own directory: config, pid file, temporary files
    port: int         # where it listens (plain HTTP)
    origin_port: int  # the origin it proxies to
    nofile: int       # the open-files limit it inherits
    tls_port: int = 0     # where it listens with TLS
    cert: str = ""        # the bench's certificate (PEM) ...
    key: str = ""         # ... its private key (PEM) ...
    cert_key: str = ""    # ... and both in one file (HAProxy's crt)
    slow_port: int = 0    # the cache scenarios' slow counting backend (cold-stampede)
    # A cache scenario's sizes (CACHE_MEMORY, VARNISH_STORAGE, ...: cache_scenarios.py); empty
    # for the others.
    cache: dict[str, object] = field(default_factory=dict)

    def values(self) -> dict[str, object]:
        return {**self.cache, "SLOW_PORT": self.slow_port, "PREFIX": self.prefix, "PORT": self.port, "ORIGIN_PORT": self.origin_port,
                "TLS_PORT": self.tls_port, "CERT": self.cert, "KEY": self.key,
                "CERT_KEY": self.cert_key,
                "NOFILE": self.nofile, "WORKER_CONNECTIONS": max(1024, self.nofile - 64),
                "MAXCONN": max(1024, (self.nofile - 200) // 2),
                "USER": pwd.getpwuid(os.getuid()).pw_name, "GROUP": grp.getgrgid(os.getgid()).gr_name}


def _first_line(argv: list[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        out = (p.stdout + p.stderr).strip().splitlines()
        return out[0] if out else "?"
    except OSError as e:
        return f"? ({e})"


def _gatehouse_version() -> str:
    b = gatehouse_bin()
    try:
        built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(b).st_mtime))
    except OSError:
        built = "?"
    shown = os.path.relpath(_GATEHOUSE_ORIGINAL or b, REPO_DIR)
    return f"{_first_line([b, '--version'])} ({shown}, built {built})"


_GATEHOUSE_ORIGINAL: str | None = None


def snapshot_gatehouse(tmp: str) -> None:
    """Copies the gatehouse binary into the bench's temporary directory and uses the copy, so a
    rebuild during a long bench cannot mix two versions in one table."""
    global _GATEHOUSE_ORIGINAL
    _GATEHOUSE_ORIGINAL = gatehouse_bin()
    copy = os.path.join(tmp, "gatehouse")
    shutil.copy2(_GATEHOUSE_ORIGINAL, copy)
    os.environ["GATEHOUSE_BIN"] = copy


def gatehouse_bin() -> str:
    path = os.environ.get("GATEHOUSE_BIN", "build/gatehouse")
    return path if os.path.isabs(path) else os.path.join(REPO_DIR, path)


@dataclass(frozen=True)
class ServerSpec:
    name: str
    color: str                                   # gnuplot colour of its bars
    template: str                                # under bench/conf/
    config_name: str
    argv: Callable[[str, Env], list[str]]        # (config path, env) -> foreground command line
    version: Callable[[], str]
    missing: Callable[[], str | None] = lambda: None   # why it cannot run here, or None
    check: Callable[[str], list[str]] | None = None    # optional config check command
    ready_marker: str | None = None              # a log line that says it is listening
    scenarios: tuple[str, ...] | None = None     # the scenarios it takes part in (None: all)
    skip: tuple[str, ...] = ()                   # ... except these
    # The config template of the cache scenarios (CACHE_SCENARIOS); a server without one (no
    # cache: nghttpx) takes no part in them.
    cache_template: str = ""

    def supports(self, scenario: str) -> bool:
        if scenario in CACHE_SCENARIOS and not self.cache_template:
            return False
        if scenario in self.skip:
            return False
        return self.scenarios is None or scenario in self.scenarios


# The scenarios that use the TLS listener (scenarios.py names them; servers that only terminate
# TLS, like nghttpx, run only these).
TLS_SCENARIOS = ("h2-small", "tls-keepalive", "tls-handshake", "tls-idle", "tls-newconn-full",
                 "h2-tls-hit", "h2-tls-hit-full")
# The cache scenarios (cache_scenarios.py): every server runs them with its cache_template, the
# config with its cache on; the servers without one sit them out.
CACHE_SCENARIOS = ("cache-hit-1k", "cache-hit-256k", "h2-tls-hit", "cache-hit-1k-full",
                   "cache-hit-256k-full", "h2-tls-hit-full", "cold-stampede", "cache-memory")
# What a server whose cache keeps nothing in its own memory, or all of it from the start, cannot
# show in cache-memory (RSS growth per stored object): nginx keeps bodies and headers in files
# (1,000,000 of them), HAProxy allocates its whole shared cache at start.
NO_CACHE_MEMORY = ("cache-memory",)


def _varnishd() -> str:
    return shutil.which("varnishd") or "/usr/sbin/varnishd"


def _varnish_argv(cfg: str, env: "Env") -> list[str]:
    return [_varnishd(), "-F", "-j", "none", "-n", os.path.join(env.prefix, "varnish"),
            "-a", f"127.0.0.1:{env.port}", "-f", cfg, "-T", "none",
            "-s", f"malloc,{env.cache.get('VARNISH_STORAGE', '256m')}",
            "-p", "thread_pools=1"]


def _nghttpx() -> str:
    return shutil.which("nghttpx") or "/usr/sbin/nghttpx"


def _gatehouse_missing() -> str | None:
    b = gatehouse_bin()
    return None if os.access(b, os.X_OK) else f"{b} not found or not executable (set GATEHOUSE_BIN)"


SERVERS: list[ServerSpec] = [
    ServerSpec(
        name="gatehouse", color="#d62728", template="gatehouse.yaml", config_name="gatehouse.yaml",
        argv=lambda cfg, env: [gatehouse_bin(), "-c", cfg],
        version=_gatehouse_version,
        missing=_gatehouse_missing,
        check=lambda cfg: [gatehouse_bin(), "check", "-c", cfg],
        ready_marker="listening:",
        cache_template="gatehouse-cache.yaml",
    ),
    ServerSpec(
        name="nginx", color="#2ca02c", template="nginx.conf", config_name="nginx.conf",
        argv=lambda cfg, env: ["nginx", "-p", env.prefix, "-e", os.path.join(env.prefix, "error.log"),
                               "-c", cfg],
        version=lambda: _first_line(["nginx", "-v"]),
        missing=lambda: None if shutil.which("nginx") else "nginx not installed",
        check=lambda cfg: ["nginx", "-t", "-q", "-c", cfg, "-e", "/dev/null"],
        cache_template="nginx-cache.conf", skip=NO_CACHE_MEMORY,
    ),
    ServerSpec(
        name="haproxy", color="#1f77b4", template="haproxy.cfg", config_name="haproxy.cfg",
        argv=lambda cfg, env: ["haproxy", "-db", "-f", cfg],
        version=lambda: _first_line(["haproxy", "-v"]),
        missing=lambda: None if shutil.which("haproxy") else "haproxy not installed",
        check=lambda cfg: ["haproxy", "-c", "-q", "-f", cfg],
        cache_template="haproxy-cache.cfg", skip=NO_CACHE_MEMORY,
    ),
    # Varnish (Debian's varnish package): the cache scenarios only, plain HTTP only (no TLS).
    ServerSpec(
        name="varnish", color="#ff7f0e", template="", config_name="",
        argv=_varnish_argv,
        version=lambda: _first_line([_varnishd(), "-V"]),
        missing=lambda: None if os.access(_varnishd(), os.X_OK) else
        "varnishd not installed (package varnish)",
        check=lambda cfg: [_varnishd(), "-C", "-j", "none", "-f", cfg, "-n",
                           os.path.join(os.path.dirname(cfg), "varnish-check")],
        scenarios=CACHE_SCENARIOS, skip=("h2-tls-hit", "h2-tls-hit-full"),
        cache_template="varnish.vcl",
    ),
    # nghttp2's proxy: TLS and HTTP/2 scenarios only (it is there as an HTTP/2 reference).
    ServerSpec(
        name="nghttpx", color="#9467bd", template="nghttpx.conf", config_name="nghttpx.conf",
        argv=lambda cfg, env: [_nghttpx(), f"--conf={cfg}"],
        version=lambda: _first_line([_nghttpx(), "--version"]),
        missing=lambda: None if os.access(_nghttpx(), os.X_OK) else
        "nghttpx not installed (package nghttp2-proxy)",
        scenarios=TLS_SCENARIOS,
    ),
    # Not a proxy: wrk/curl/h2load straight to the origin (which has a TLS listener too), to show
    # what the client side can do. Off by default; select it with --only direct,...
    ServerSpec(
        name="direct", color="#7f7f7f", template="", config_name="",
        argv=lambda cfg, env: [], version=lambda: "origin without a proxy",
    ),
]

DEFAULT_SERVERS = ["gatehouse", "nginx", "haproxy", "nghttpx", "varnish"]


def spec(name: str) -> ServerSpec:
    for s in SERVERS:
        if s.name == name:
            return s
    raise KeyError(f"unknown server {name!r}; known: {', '.join(s.name for s in SERVERS)}")


@dataclass
class Bench:
    """Shared state of one bench run: temporary directory, launcher, certificate, origin."""

    tmp: str
    launcher: Launcher
    nofile: int
    origin_port: int = 0
    origin_tls_port: int = 0
    slow_port: int = 0         # the slow counting backend, started by the first cache scenario
    docroot: str = ""
    cert: str = ""
    key: str = ""
    cert_key: str = ""
    _serial: itertools.count = field(default_factory=itertools.count)
    _counter_reads: int = 0  # requests made to read the origin's counter (it counts them too)

    def make_cert(self) -> None:
        """One self-signed ECDSA P-256 certificate for every server (and the origin's TLS
        listener): CN and subjectAltName localhost and 127.0.0.1, valid for 30 days."""
        d = os.path.join(self.tmp, "tls")
        os.makedirs(d, exist_ok=True)
        self.cert, self.key = os.path.join(d, "bench.crt"), os.path.join(d, "bench.key")
        self.cert_key = os.path.join(d, "bench.pem")
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "30", "-sha256",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"openssl req failed:\n{p.stderr}")
        os.chmod(self.key, 0o600)
        with open(self.cert_key, "w") as out:
            for part in (self.cert, self.key):
                with open(part) as f:
                    out.write(f.read())
        os.chmod(self.cert_key, 0o600)

    def env(self, prefix: str, port: int, origin_port: int) -> Env:
        tls_port = free_port()
        while tls_port in (port, origin_port):
            tls_port = free_port()
        return Env(prefix, port, origin_port, self.nofile, tls_port=tls_port, cert=self.cert,
                   key=self.key, cert_key=self.cert_key, slow_port=self.slow_port)

    def start_origin(self, big_size: int) -> None:
        if not self.cert:
            self.make_cert()
        self.docroot = os.path.join(self.tmp, "docroot")
        os.makedirs(self.docroot, exist_ok=True)
        with open(os.path.join(self.docroot, "1k"), "wb") as f:
            f.write(b"x" * 1023 + b"\n")
        with open(os.path.join(self.docroot, "256k"), "wb") as f:
            f.write(b"y" * (256 * 1024 - 1) + b"\n")
        # Sparse: created instantly, read as zeros (sendfile serves it from the page cache).
        with open(os.path.join(self.docroot, "1g"), "wb") as f:
            f.truncate(big_size)
        prefix = os.path.join(self.tmp, "origin")
        os.makedirs(prefix, exist_ok=True)
        self.origin_port = free_port()
        env = self.env(prefix, self.origin_port, 0)
        self.origin_tls_port = env.tls_port
        cfg = render("origin-nginx.conf", os.path.join(prefix, "nginx.conf"),
                     {**env.values(), "DOCROOT": self.docroot, "OBJ_BODY": OBJ_BODY.decode()})
        proc = self.launcher.start("origin", pinned(CLIENT_CPU, [
            "nginx", "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", cfg]))
        wait_ready(proc, f"http://127.0.0.1:{self.origin_port}/1k")

    def start_slow_backend(self, delay: float) -> None:
        """The cold-stampede backend (count_backend.py) on the client CPU, once per bench."""
        if self.slow_port:
            return
        port = free_port()
        proc = self.launcher.start("slow-backend", pinned(CLIENT_CPU, [
            sys.executable, os.path.join(HARNESS_DIR, "count_backend.py"), str(port), str(delay)]))
        wait_ready(proc, f"http://127.0.0.1:{port}/__ready")
        self.slow_port = port

    def slow_count(self, path: str) -> int:
        """Requests the slow backend got for |path| so far."""
        q = urllib.parse.urlencode({"path": path})
        with urllib.request.urlopen(f"http://127.0.0.1:{self.slow_port}/__count?{q}",
                                    timeout=10) as r:
            return int(json.loads(r.read())["count"])

    def origin_requests(self) -> int:
        """Requests the origin has handled so far (nginx stub_status), not counting the ones
        made to read this counter."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.origin_port}/__requests",
                                    timeout=10) as r:
            text = r.read().decode()
        self._counter_reads += 1
        # "Active connections: N\nserver accepts handled requests\n A H R\n..."
        return int(text.splitlines()[2].split()[2]) - self._counter_reads

    def start(self, s: ServerSpec, full_core: bool = False,
              cache: dict[str, object] | None = None) -> Instance:
        """|s| started on SERVER_CPU, inside the CPU quota unless |full_core|; with its cache
        config (s.cache_template, |cache|'s sizes filled in) when |cache| is not None."""
        if s.name == "direct":
            return Instance(s.name, self.origin_port, self.launcher.procs[0], self.tmp,
                            self.origin_tls_port)
        prefix = os.path.join(self.tmp, f"{s.name}-{next(self._serial)}")
        os.makedirs(prefix)
        env = self.env(prefix, free_port(), self.origin_port)
        template = s.template
        if cache is not None:
            env.cache = cache
            template = s.cache_template
        name = s.config_name if cache is None else os.path.basename(template)
        cfg = render(template, os.path.join(prefix, name), env.values())
        if s.check:
            p = subprocess.run(s.check(cfg), capture_output=True, text=True, check=False, cwd=prefix)
            if p.returncode != 0:
                raise RuntimeError(f"{s.name}: config check failed:\n{p.stdout}{p.stderr}")
        argv = pinned(SERVER_CPU, s.argv(cfg, env))
        proc = self.launcher.start(s.name, argv if full_core else SERVER_QUOTA.wrap(argv),
                                   cwd=prefix)
        try:
            # Ready when plain HTTP answers; the TLS listener is probed by the TLS scenarios
            # (a server whose TLS does not work yet still runs the plain ones).
            wait_ready(proc, f"http://127.0.0.1:{env.port}/1k", log_marker=s.ready_marker)
        except Exception:
            self.launcher.stop(proc)
            raise
        return Instance(s.name, env.port, proc, prefix, env.tls_port)

    def stop(self, inst: Instance) -> None:
        if inst.name == "direct":
            return
        self.launcher.stop(inst.proc)
        shutil.rmtree(inst.prefix, ignore_errors=True)
