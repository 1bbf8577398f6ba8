# SPDX-License-Identifier: MIT
"""Opens N real keep-alive connections and keeps them idle.

Each connection sends one GET and reads the whole response, so the server holds it as an idle
keep-alive connection (not a half-open one waiting for a request head). With --tls, each one is a
TLS connection (full handshake, ALPN http/1.1, the certificate not verified) that has done the
same. Then:
  stdout: {"ok": N, "failed": F, "errors": {...}, "seconds": S, "tls": "TLSv1.3 ..."}
          once all are set up
  stdin "check": prints {"alive": K} (connections the server has not closed)
  stdin "close" or EOF: closes everything and exits.
After max(20, COUNT / 10) failed connections it stops opening more (error "not tried"), so a
server that drops or stalls every connection ends the setup quickly.

usage: idle_client.py [--tls] HOST PORT COUNT [PATH] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import collections
import json
import select
import socket
import ssl
import sys
import threading
import time

from client_pool import error_name, run_threads


def tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the bench's self-signed certificate
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    return int(lines[0].split()[1]), {k.strip().lower(): v.strip() for k, _, v in
                                      (line.partition(":") for line in lines[1:] if line)}


# ---- TLS: blocking sockets in threads (asyncio's TLS costs the client CPU twice as much per
# handshake, and gives each connection a zero-filled 256 KiB buffer) -------------------------------

class _Reader:
    def __init__(self, s: ssl.SSLSocket):
        self.s, self.buf = s, b""

    def fill(self) -> None:
        chunk = self.s.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            self.fill()
        out, _, self.buf = self.buf.partition(sep)
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def tls_one(host: str, port: int, request: bytes, ctx: ssl.SSLContext, conns: list,
            errors: collections.Counter, seen_tls: list, lock: threading.Lock) -> None:
    s = None
    try:
        raw = socket.create_connection((host, port), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(request)
        r = _Reader(s)
        status, headers = _head(r.until(b"\r\n\r\n"))
        err = None
        if "content-length" in headers:
            r.exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(r.until(b"\r\n").split(b";")[0], 16)
                r.exactly(size + 2) if size else r.until(b"\r\n")
                if size == 0:
                    break
        else:
            err = "no length (not keep-alive)"
        with lock:
            if not seen_tls:
                seen_tls.append(f"{s.version()} {s.cipher()[0]}")
            if status != 200:
                errors[f"status {status}"] += 1
            if err:
                errors[err] += 1
            if "close" in headers.get("connection", "").lower():
                errors["server sent Connection: close"] += 1
                s.close()
                return
            conns.append(s)
    except (OSError, ValueError, IndexError) as e:
        with lock:
            errors[error_name(e)] += 1
        if s is not None:
            s.close()


def tls_alive(conns: list) -> int:
    """Connections the server has not closed (no POLLRDHUP/POLLHUP/POLLERR on them)."""
    p = select.poll()
    for s in conns:
        p.register(s.fileno(), select.POLLRDHUP)
    dead = {fd for fd, ev in p.poll(0)
            if ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL)}
    return sum(1 for s in conns if s.fileno() not in dead)


def tls_main(host: str, port: int, count: int, request: bytes, threads: int) -> None:
    ctx = tls_context()
    conns: list = []
    errors: collections.Counter = collections.Counter()
    seen_tls: list[str] = []
    lock = threading.Lock()
    seconds = run_threads(
        count, threads, errors, lock,
        lambda: tls_one(host, port, request, ctx, conns, errors, seen_tls, lock))
    print(json.dumps({"ok": len(conns), "failed": count - len(conns), "errors": dict(errors),
                      "seconds": round(seconds, 3),
                      "tls": seen_tls[0] if seen_tls else ""}), flush=True)
    for line in sys.stdin:
        if line.strip() == "check":
            print(json.dumps({"alive": tls_alive(conns)}), flush=True)
        else:
            break
    for s in conns:
        s.close()


# ---- plain HTTP: asyncio ------------------------------------------------------------------------

async def one(host: str, port: int, request: bytes, sem: asyncio.Semaphore, conns: list,
              errors: collections.Counter, give_up: int) -> None:
    async with sem:
        if sum(errors.values()) >= give_up:
            errors["not tried (too many failures)"] += 1
            return
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in headers:
                await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 30)
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2) if size else None
                    if size == 0:
                        await reader.readuntil(b"\r\n")  # no trailers expected
                        break
            else:
                errors["no length (not keep-alive)"] += 1
            if status != 200:
                errors[f"status {status}"] += 1
            if "close" in headers.get("connection", "").lower():
                errors["server sent Connection: close"] += 1
                writer.close()
                return
            conns.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError,
                IndexError) as e:
            errors[type(e).__name__ + (f" {e.errno}" if isinstance(e, OSError) and e.errno else "")] += 1


async def main(host: str, port: int, count: int, request: bytes, concurrency: int) -> None:
    sem = asyncio.Semaphore(concurrency)
    conns: list = []
    errors: collections.Counter = collections.Counter()
    t0 = time.monotonic()
    give_up = max(20, count // 10)
    await asyncio.gather(*(one(host, port, request, sem, conns, errors, give_up)
                           for _ in range(count)))
    print(json.dumps({"ok": len(conns), "failed": count - len(conns), "errors": dict(errors),
                      "seconds": round(time.monotonic() - t0, 3)}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "check":
            await asyncio.sleep(0)
            alive = sum(1 for r, w in conns if not r.at_eof() and not w.is_closing())
            print(json.dumps({"alive": alive}), flush=True)
        else:
            break
    for _, w in conns:
        w.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--tls"]
    host, port, count = args[0], int(args[1]), int(args[2])
    path = args[3] if len(args) > 3 else "/1k"
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"User-Agent: gatehouse-bench-idle\r\n\r\n").encode()
    if "--tls" in sys.argv[1:]:
        tls_main(host, port, count, request, int(args[4]) if len(args) > 4 else 8)
    else:
        asyncio.run(main(host, port, count, request, int(args[4]) if len(args) > 4 else 200))
