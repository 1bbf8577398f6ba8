# SPDX-License-Identifier: MIT
"""Makes COUNT new TLS connections, each with a full handshake (no session resumption: every
connection starts without a session), one GET with `Connection: close`, the whole response read,
then waits for the server to close. CONCURRENCY threads share the work (the handshakes themselves
run in OpenSSL with the GIL released).

h2load is not used here because it resumes the previous TLS session when it reconnects.

stdout: one JSON line {"ok": N, "failed": F, "errors": {...}, "resumed": R, "seconds": S,
                       "tls": "TLSv1.3 TLS_AES_256_GCM_SHA384"}
After max(20, COUNT / 10) failed connections it gives up on the rest (counted as failed, error
"not tried"), so a server that drops or stalls every connection ends the run in seconds.

usage: handshake_client.py HOST PORT COUNT [CONCURRENCY] [PATH]
"""

from __future__ import annotations

import collections
import json
import socket
import ssl
import sys
import threading

from client_pool import error_name, run_threads


def context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE       # the bench's self-signed certificate
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def read_response(s: ssl.SSLSocket) -> tuple[int, bool]:
    """Reads one response; returns (status, closed by the server after it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    # Up to the end of the body (or EOF when the length is not given), then wait for the close.
    s.settimeout(5)
    while True:
        if length is not None and len(body) >= length:
            try:
                return status, s.recv(65536) == b""
            except (TimeoutError, socket.timeout):
                return status, False
        chunk = s.recv(65536)
        if not chunk:
            if length is not None:
                raise ConnectionError(f"closed after {len(body)} of {length} body bytes")
            return status, True
        body += chunk


def main() -> None:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    path = sys.argv[5] if len(sys.argv) > 5 else "/1k"
    request = (f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n"
               "User-Agent: gatehouse-bench-handshake\r\nConnection: close\r\n\r\n").encode()
    ctx = context()
    lock = threading.Lock()
    ok = [0]
    resumed = [0]
    errors: collections.Counter = collections.Counter()
    seen_tls: list[str] = []

    def one() -> None:
        try:
            with socket.create_connection((host, port), timeout=10) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(request)
                    status, closed = read_response(s)
                    with lock:
                        if s.session_reused:
                            resumed[0] += 1
                        if not seen_tls:
                            seen_tls.append(f"{s.version()} {s.cipher()[0]}")
                        if status != 200:
                            errors[f"status {status}"] += 1
                        elif not closed:
                            errors["server did not close after Connection: close"] += 1
                        else:
                            ok[0] += 1
        except (OSError, ssl.SSLError, ValueError, IndexError) as e:
            with lock:
                errors[error_name(e)] += 1

    seconds = run_threads(count, concurrency, errors, lock, one)
    print(json.dumps({"ok": ok[0], "failed": count - ok[0], "errors": dict(errors),
                      "resumed": resumed[0], "seconds": round(seconds, 3),
                      "tls": seen_tls[0] if seen_tls else ""}), flush=True)


if __name__ == "__main__":
    main()
