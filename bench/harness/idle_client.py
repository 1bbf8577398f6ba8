# SPDX-License-Identifier: MIT
"""Opens N real keep-alive connections and keeps them idle.

Each connection sends one GET and reads the whole response, so the server holds it as an idle
keep-alive connection (not a half-open one waiting for a request head). Then:
  stdout: {"ok": N, "failed": F, "errors": {...}, "seconds": S}   once all are set up
  stdin "check": prints {"alive": K} (connections the server has not closed)
  stdin "close" or EOF: closes everything and exits.

usage: idle_client.py HOST PORT COUNT [PATH] [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time


async def one(host: str, port: int, request: bytes, sem: asyncio.Semaphore, conns: list,
              errors: collections.Counter) -> None:
    async with sem:
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


async def main() -> None:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/1k"
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"User-Agent: gatehouse-bench-idle\r\n\r\n").encode()
    sem = asyncio.Semaphore(concurrency)
    conns: list = []
    errors: collections.Counter = collections.Counter()
    t0 = time.monotonic()
    await asyncio.gather(*(one(host, port, request, sem, conns, errors) for _ in range(count)))
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
    asyncio.run(main())
