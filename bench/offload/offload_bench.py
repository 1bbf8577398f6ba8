#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The offload bench (issue 11): a 1 GiB file sent on an X-Accel-Redirect answer, by gatehouse
(an `internal:` root) and by nginx 1.22 (an `internal` location with `alias`), both in front of
the same counting origin that answers every /dl/ request with the redirect and an empty body.

Scenarios, each measured for both servers in one run, printed with the ratio:
  xaccel-1, xaccel-8     plain HTTP/1.1, 1 and 8 concurrent curl clients (MiB/s aggregate)
  xaccel-tls-1           HTTPS (HTTP/1.1), 1 client
  xaccel-h2-1            HTTPS with HTTP/2, 1 client
  static-1, static-8     the same file as a static file (gatehouse `static:`, nginx `root`)
  ranges                 1,000 Range requests for a cacheable redirect: origin requests counted
Server CPU per GiB (user+system of the server's processes) is printed beside MiB/s.

The server is pinned to CPU 0 and the clients to CPU 1 (taskset); --quota N runs the server
under a CPU quota of N% of one core (a cgroup's cpu.max, through bench/harness/quota.py as the
main bench does), else on the full core.

  GATEHOUSE_BIN=build/gatehouse bench/offload/offload_bench.py [--scenarios a,b] [--size-mib N]
"""
import argparse
import http.client
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from quota import ServerQuota  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = ["xaccel-1", "xaccel-8", "xaccel-tls-1", "xaccel-h2-1", "static-1", "static-8",
             "ranges"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nothing listens on %d" % port)


class Origin:
    """Answers /dl/NAME with X-Accel-Redirect: /tarballs/NAME (cacheable for a minute) and counts."""

    def __init__(self):
        self.count = 0
        origin = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                origin.count += 1
                name = self.path.rsplit("/", 1)[-1]
                self.send_response(200)
                self.send_header("X-Accel-Redirect", "/tarballs/" + name)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Cache-Control", "public, max-age=600")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_GET

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def tree(pid):
    out = [pid]
    try:
        for child in open("/proc/%d/task/%d/children" % (pid, pid)).read().split():
            out += tree(int(child))
    except OSError:
        pass
    return out


class Server:
    def __init__(self, name, argv, port, tls_port, quota):
        self.name, self.port, self.tls_port = name, port, tls_port
        cmd = ["taskset", "-c", "0", *argv]
        if quota:
            cmd = quota.wrap(cmd)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(port)
        wait_port(tls_port)

    def pids(self):
        return tree(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def curl_many(urls, extra):
    """Runs one curl per URL at once on CPU 1; returns (bytes, seconds)."""
    started = time.monotonic()
    procs = [subprocess.Popen(["taskset", "-c", "1", "curl", "-s", "-k", "-o", "/dev/null",
                               "-w", "%{size_download} %{http_code}", *extra, u],
                              stdout=subprocess.PIPE, text=True) for u in urls]
    total = 0
    for p in procs:
        out, _ = p.communicate()
        size, code = out.split()
        if code != "200":
            raise RuntimeError("curl got %s for %s" % (code, urls[0]))
        total += int(size)
    return total, time.monotonic() - started


def ranges(port, n=1000):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        c.request("GET", "/dl/big.bin", headers={"Range": "bytes=%d-%d" % (i * 4096,
                                                                            i * 4096 + 4095)})
        r = c.getresponse()
        body = r.read()
        if r.status != 206 or len(body) != 4096:
            raise RuntimeError("range %d: %d, %d bytes" % (i, r.status, len(body)))
    c.close()


def render(template, **subs):
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    for k, v in subs.items():
        text = text.replace("@%s@" % k, str(v))
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--quota", type=int, default=0, help="server CPU quota in %% of one core")
    args = ap.parse_args()
    wanted = args.scenarios.split(",")
    gh_bin = os.environ.get("GATEHOUSE_BIN", "build/gatehouse")
    tmp = tempfile.mkdtemp(prefix="offload-bench-")
    quota = ServerQuota(args.quota / 100) if args.quota else None
    if quota:
        print(quota.describe())
    try:
        files = os.path.join(tmp, "files")
        os.makedirs(os.path.join(files, "static"))
        block = os.urandom(1 << 20)
        with open(os.path.join(files, "big.bin"), "wb") as f:
            for _ in range(args.size_mib):
                f.write(block)
        os.link(os.path.join(files, "big.bin"), os.path.join(files, "static", "big.bin"))
        subprocess.run(["cat", os.path.join(files, "big.bin")], stdout=subprocess.DEVNULL)
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=bench",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        origin = Origin()
        results = {}
        for name in ("gatehouse", "nginx"):
            port, tls_port = free_port(), free_port()
            prefix = os.path.join(tmp, name)
            os.makedirs(prefix)
            subs = dict(PORT=port, TLS_PORT=tls_port, ORIGIN_PORT=origin.port, FILES=files,
                        CERT=cert, KEY=key, PREFIX=prefix, USER=os.getuid(), GROUP=os.getgid())
            if name == "gatehouse":
                conf = os.path.join(prefix, "gatehouse.yaml")
                open(conf, "w").write(render("gatehouse-offload.yaml", **subs))
                argv = [gh_bin, "-c", conf]
            else:
                import grp
                import pwd
                subs["USER"] = pwd.getpwuid(os.getuid()).pw_name
                subs["GROUP"] = grp.getgrgid(os.getgid()).gr_name
                conf = os.path.join(prefix, "nginx.conf")
                open(conf, "w").write(render("nginx-offload.conf", **subs))
                argv = ["nginx", "-c", conf, "-p", prefix]
            server = Server(name, argv, port, tls_port, quota)
            try:
                for sc in wanted:
                    if sc == "ranges":
                        ranges(port, 1)  # the first request fills (gatehouse) or not (nginx)
                        before = origin.count
                        ranges(port)
                        results[(sc, name)] = ("origin requests", origin.count - before)
                        continue
                    kind, clients = sc.rsplit("-", 1)
                    base = "https://127.0.0.1:%d" % tls_port if "tls" in kind or "h2" in kind \
                        else "http://127.0.0.1:%d" % port
                    path = "/static/big.bin" if kind == "static" else "/dl/big.bin"
                    extra = ["--http2"] if "h2" in kind else ["--http1.1"]
                    cpu0 = cpu_seconds(server.pids())
                    size, secs = curl_many([base + path] * int(clients), extra)
                    cpu = cpu_seconds(server.pids()) - cpu0
                    gib = size / (1 << 30)
                    results[(sc, name)] = (size / (1 << 20) / secs, cpu / gib)
            finally:
                server.stop()
        print("offload bench: %d MiB file, server on CPU 0%s, curl on CPU 1" %
              (args.size_mib, " at a %d%% quota" % args.quota if args.quota else " (full core)"))
        print("%-14s %22s %22s %8s" % ("scenario", "gatehouse", "nginx", "ratio"))
        for sc in wanted:
            g, n = results.get((sc, "gatehouse")), results.get((sc, "nginx"))
            if not g or not n:
                continue
            if sc == "ranges":
                print("%-14s %22s %22s" % (sc, "%d origin req" % g[1], "%d origin req" % n[1]))
                continue
            print("%-14s %10.0f MiB/s %4.2f cpu-s/GiB %6.0f MiB/s %4.2f cpu-s/GiB %7.2fx" %
                  (sc, g[0], g[1], n[0], n[1], g[0] / n[0]))
        origin.server.shutdown()
    finally:
        if quota:
            quota.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
