# SPDX-License-Identifier: MIT
"""The clients of the cold-stampede scenario: N keep-alive connections that each ask for the same
cold URL at the same moment.

    stampede_client.py HOST PORT CLIENTS TIMEOUT PATH [PATH...]

Opens CLIENTS connections first (so connection set-up is not part of the burst), then for each
PATH in turn writes one `GET PATH` on every connection in one go and reads every response whole
(Content-Length or chunked). Prints one JSON line:
`{"connected": N, "urls": [{"path": P, "ok": N, "failed": N, "seconds": S, "errors": {...}}]}`
where ok counts 200 responses. A connection that fails is not used for the following paths.
Gives up on a path after TIMEOUT seconds (the responses still missing count as failed).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break  # no trailers from these servers
    elif length:
        await reader.readexactly(length)
    return status


async def one(conn, request: bytes) -> int:
    reader, writer = conn
    writer.write(request)
    return await read_response(reader)


async def main() -> None:
    host, port, clients, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    paths = sys.argv[5:]
    errors: collections.Counter = collections.Counter()

    async def connect():
        try:
            return await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError) as e:
            errors[f"connect: {type(e).__name__}"] += 1
            return None

    conns = [c for c in await asyncio.gather(*(connect() for _ in range(clients))) if c]
    out = {"connected": len(conns), "connect_errors": dict(errors), "urls": []}
    for path in paths:
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"User-Agent: gatehouse-bench-stampede\r\n\r\n").encode()
        t0 = time.monotonic()
        # Every request is written before any response is awaited: one burst.
        tasks = [asyncio.ensure_future(one(c, request)) for c in conns]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        seconds = time.monotonic() - t0
        ok, errs, alive = 0, collections.Counter(), []
        for c, t in zip(conns, tasks):
            if t in pending:
                t.cancel()
                errs["timeout"] += 1
            elif t.exception() is not None:
                errs[type(t.exception()).__name__] += 1
            elif t.result() == 200:
                ok += 1
                alive.append(c)
            else:
                errs[f"status {t.result()}"] += 1
                alive.append(c)
        out["urls"].append({"path": path, "ok": ok, "failed": len(conns) - ok,
                            "seconds": seconds, "errors": dict(errs)})
        conns = alive
    for _, w in conns:
        w.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
