# SPDX-License-Identifier: MIT
"""The slow, counting backend of the cold-stampede scenario (not under test; pinned to the client
CPU by the bench).

    count_backend.py PORT DELAY_SECONDS

HTTP/1.1 with keep-alive (and pipelining, answered in order) on 127.0.0.1:PORT:
- GET /slow/ANYTHING: counted, then answered after DELAY_SECONDS: 200, a 1 KiB body,
  `Cache-Control: public, max-age=3600`. The delay is what makes a stampede: every request that
  arrives while the first one is still at the backend is a request a cache must coalesce.
- GET /__count?path=/slow/X: `{"count": N}`, the requests /slow/X got so far (not counted itself).
- GET /__ready: 200 (not counted).
Anything else: 404. Request bodies are skipped (Content-Length only; the bench sends none).
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import sys
import urllib.parse

BODY = b"s" * 1023 + b"\n"
COUNTS: collections.Counter = collections.Counter()


def response(status: str, body: bytes, extra: str = "") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nDate: {email.utils.formatdate(usegmt=True)}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n")
    return head.encode("latin-1") + body


async def answer(target: str, delay: float) -> bytes:
    url = urllib.parse.urlsplit(target)
    if url.path.startswith("/slow/"):
        COUNTS[url.path] += 1
        await asyncio.sleep(delay)
        return response("200 OK", BODY, "Content-Type: text/plain\r\n"
                        "Cache-Control: public, max-age=3600\r\n")
    if url.path == "/__count":
        path = urllib.parse.parse_qs(url.query).get("path", [""])[0]
        return response("200 OK", json.dumps({"count": COUNTS[path]}).encode(),
                        "Content-Type: application/json\r\nCache-Control: no-store\r\n")
    if url.path == "/__ready":
        return response("200 OK", b"ready\n", "Cache-Control: no-store\r\n")
    return response("404 Not Found", b"not found\n", "Cache-Control: no-store\r\n")


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                break
            length, close = 0, parts[2] == "HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection":
                    close = close or value == "close"
            if length:
                await reader.readexactly(length)
            writer.write(await answer(parts[1], delay))
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), "127.0.0.1", port,
                                        backlog=4096)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
