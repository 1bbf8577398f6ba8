#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gatehouse's demo and test backend: a small HTTP/1.1 origin written on raw sockets.

    python3 tests/backend.py --listen 127.0.0.1:0          # or --listen unix:/path/app.sock
    -> prints "listening: 127.0.0.1:43521" (or "listening: unix:/path/app.sock") once bound.

One thread per connection, HTTP/1.1 keep-alive (Content-Length and chunked request bodies,
`Expect: 100-continue` answered with an interim 100 before the body is read). Standard library only.

Endpoints (any method; HEAD gets the head of what GET would get):
  /                      small HTML page "gatehouse demo backend"
  /-/health              200 "ok"
  /cached                a small HTML page with Cache-Control: public, max-age=60 and an ETag
  /echo, and any path not listed here
                         JSON of the request as received: method, target, path, query, version,
                         headers (list of [name, value] pairs, in order), body_length, body_sha256,
                         body_chunked, expect_continue (an interim 100 was sent), server (--name),
                         connection {id, peer, request_index}. No Date header, on purpose.
  /bytes/N               N bytes of a fixed pseudo-random pattern (see pattern_bytes()), with
                         Content-Length. Query parameters:
                           chunked=1   chunked transfer coding instead of Content-Length
                           chunk=SIZE  piece size for writes and chunks (default 65536, max 1 MiB)
                           close=1     close-delimited: no length, Connection: close, then close
                           delay=SEC   wait before sending the head
                           pause=SEC   wait between two pieces of the body
                           head_pause=SEC wait between the head and the body
                           stream=1    add X-Accel-Buffering: no
                           sndbuf=N    set SO_SNDBUF on this connection first
                           tag=ANY     free text, only to find the request in /stats
  Any endpoint, while reading a request body (query parameters):
                           read_chunk=N   read at most N bytes at a time
                           read_pause=SEC sleep after each read
                           early=1        answer without reading the body (as an early 413
                                          or 401 would), then close the connection
  /status/N              answers status N with a short text body (none for 1xx, 204, 304)
  /hop                   a 3-byte response carrying hop-by-hop fields (Connection naming
                         X-Hop-Response, Keep-Alive, Proxy-Connection, Upgrade, TE, X-Hop-Response)
                         and one end-to-end field, X-End-To-End: kept
  /hang                  reads the request and never answers; waits for the peer to close
  /malformed/KIND        a broken response, KIND one of:
                           status     bad status line ("HTTP/1.1 abc Bad"), then close
                           garbage    not HTTP at all, then close
                           two-cl     two different Content-Length fields, then close
                           chunk      chunked, 64 KiB of good chunks, then an invalid chunk size
                           truncated  Content-Length: 100000, 50000 bytes, then close
                           extra      a complete 5-byte response "hello" followed in the same write
                                      by a second, unrequested response ("SMUGGLED"); the
                                      connection then stays open for more requests
  /ws                    a WebSocket endpoint: the RFC 6455 opening handshake (400 without one),
                         then every byte received is echoed back raw (no frame parsing); at the
                         client's end of stream it sends ?after_eof=TEXT, shuts down its side and
                         closes. Query parameters: status=N answer N instead of switching;
                         force=1 switch even without a handshake; greet=1 send a JSON line of the
                         request's headers in the same write as the 101 head; bad_accept=1 a
                         wrong Sec-WebSocket-Accept; pause=SEC sleep after each echoed read;
                         drop=1 close the connection without an answer; proto=NAME the Upgrade
                         value of the 101 (default websocket)
  /stats                 JSON counters: connections (accepted), open_connections (ids), requests,
                         heads (request heads read, counted before their body is read),
                         none of which count a connection whose first request is /stats,
                         and log: the last 1000 requests, each {seq, conn_id, method, target,
                         bytes_sent (body bytes), finished, aborted, peer_closed}. Not logged itself.
"""
import argparse
import base64
import collections
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

PATTERN_LEN = 65521  # prime, so a misplaced block of any power-of-two size shows in a checksum
PATTERN = random.Random(20240601).randbytes(PATTERN_LEN)
_BIG = PATTERN * 18
MAX_PIECE = 1 << 20


def pattern_bytes(n, offset=0):
    """The first |n| bytes (from |offset|) of what /bytes/N sends; for tests to compare against."""
    out = bytearray()
    while len(out) < n:
        start = (offset + len(out)) % PATTERN_LEN
        take = min(n - len(out), len(_BIG) - start)
        out += _BIG[start:start + take]
    return bytes(out)


def pattern_sha256(n):
    h = hashlib.sha256()
    done = 0
    while done < n:
        take = min(MAX_PIECE, n - done)
        h.update(_piece(done, take))
        done += take
    return h.hexdigest()


def _piece(offset, size):
    start = offset % PATTERN_LEN
    return memoryview(_BIG)[start:start + size]


REASONS = {100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
           302: "Found", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}

CACHED_PAGE = b"<!doctype html><title>cached</title><p>Served from the cache on the second request.</p>\n"
DEMO_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>gatehouse demo backend</title></head>
<body><h1>gatehouse demo backend</h1>
<p>This page was served by <code>tests/backend.py</code> through gatehouse.</p>
<p>Try <a href="/echo">/echo</a> to see the request as the backend received it.</p>
</body></html>
"""


class PeerClosed(Exception):
    pass


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.open = set()
        self.requests = 0
        self.heads = 0
        self.log = collections.deque(maxlen=1000)

    def new_connection(self):
        with self.lock:
            self.connections += 1
            self.open.add(self.connections)
            return self.connections

    def control(self, cid):
        """|cid| is a connection asking for /stats: it is not counted as traffic."""
        with self.lock:
            self.connections -= 1
            self.open.discard(cid)

    def closed(self, cid):
        with self.lock:
            self.open.discard(cid)

    def new_request(self, cid, method, target):
        with self.lock:
            self.requests += 1
            entry = {"seq": self.requests, "conn_id": cid, "method": method, "target": target,
                     "bytes_sent": 0, "finished": False, "aborted": False, "peer_closed": False}
            self.log.append(entry)
            return entry

    def new_head(self):
        with self.lock:
            self.heads += 1

    def snapshot(self):
        with self.lock:
            return {"connections": self.connections, "open_connections": sorted(self.open),
                    "requests": self.requests, "heads": self.heads,
                    "log": [dict(e) for e in self.log]}


class Request:
    def __init__(self, method, target, version, headers):
        self.method, self.target, self.version, self.headers = method, target, version, headers
        split = urllib.parse.urlsplit(target)
        self.path, self.query = split.path, split.query
        self.params = dict(urllib.parse.parse_qsl(split.query))
        self.body_length = 0
        self.body_sha256 = hashlib.sha256().hexdigest()
        self.body_chunked = False
        self.expect_continue = False

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def tokens(self, name):
        out = []
        for n, v in self.headers:
            if n.lower() == name.lower():
                out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out

    def wants_close(self):
        conn = self.tokens("connection")
        if "close" in conn:
            return True
        return self.version == "HTTP/1.0" and "keep-alive" not in conn


class Connection:
    def __init__(self, server, sock, peer):
        self.server, self.sock, self.peer = server, sock, peer
        self.buf = bytearray()
        self.cid = server.stats.new_connection()
        self.requests = 0
        self.read_chunk, self.read_pause = 262144, 0.0

    # ---- reading
    def _fill(self):
        data = self.sock.recv(self.read_chunk)
        if not data:
            raise PeerClosed()
        self.buf += data
        if self.read_pause:
            time.sleep(self.read_pause)

    def _read_line(self, limit=65536):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self._fill()

    def _read_head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > (1 << 20):
                raise ValueError("head too long")
            self._fill()

    def _read_exact(self, n, sink):
        while n > 0:
            if not self.buf:
                self._fill()
            take = min(n, len(self.buf))
            sink(self.buf[:take])
            del self.buf[:take]
            n -= take

    def _read_request(self):
        head = self._read_head()
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3:
            raise ValueError("bad request line %r" % lines[0])
        headers = []
        for raw in lines[1:]:
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name, value.strip(" \t")))
        req = Request(parts[0], parts[1], parts[2], headers)
        if req.path != "/stats":
            self.server.stats.new_head()
        self.read_chunk = int(req.params.get("read_chunk", 262144))
        self.read_pause = float(req.params.get("read_pause", 0))
        if req.params.get("early"):
            self.read_chunk, self.read_pause = 262144, 0.0
            return req
        if "100-continue" in req.tokens("expect"):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req.expect_continue = True
        h = hashlib.sha256()

        def sink(data):
            h.update(data)
            req.body_length += len(data)

        if "chunked" in req.tokens("transfer-encoding"):
            req.body_chunked = True
            while True:
                size = int(self._read_line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_line():  # trailers
                        pass
                    break
                self._read_exact(size, sink)
                if self._read_line() != b"":
                    raise ValueError("chunk not followed by CRLF")
        elif req.header("content-length") is not None:
            self._read_exact(int(req.header("content-length")), sink)
        self.read_chunk, self.read_pause = 262144, 0.0
        req.body_sha256 = h.hexdigest()
        return req

    def _linger(self):
        """Closes as a careful server does after answering an unread body: stop sending, then
        drain for a moment, so that the peer reads the answer before any reset."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(2)
            while self.sock.recv(262144):
                pass
        except OSError:
            pass

    # ---- writing
    def _head(self, status, fields, reason=None):
        out = "HTTP/1.1 %d %s\r\n" % (status, reason or REASONS.get(status, "Status"))
        for n, v in fields:
            out += "%s: %s\r\n" % (n, v)
        return (out + "\r\n").encode("latin-1")

    def _respond(self, req, entry, status, fields, body=b""):
        fields = list(fields)
        close = req.wants_close() or bool(req.params.get("early"))
        if close:
            fields.append(("Connection", "close"))
        elif req.version == "HTTP/1.0":
            fields.append(("Connection", "keep-alive"))
        no_body = req.method == "HEAD" or status in (204, 304) or status < 200
        if status not in (204, 304) and status >= 200:
            fields.append(("Content-Length", str(len(body))))
        self.sock.sendall(self._head(status, fields) + (b"" if no_body else body))
        entry["bytes_sent"] = 0 if no_body else len(body)
        entry["finished"] = True
        return not close

    # ---- endpoints; each returns True to keep the connection open
    def serve(self):
        try:
            while True:
                try:
                    req = self._read_request()
                except (PeerClosed, ConnectionError, OSError):
                    return
                except ValueError as e:
                    self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n"
                                      b"Connection: close\r\n\r\nbad request\n")
                    self.server.note("bad request from proxy: %s" % e)
                    return
                self.requests += 1
                if req.path == "/stats":
                    if self.requests == 1:
                        self.server.stats.control(self.cid)
                    body = json.dumps(self.server.stats.snapshot()).encode()
                    entry = {}
                    if not self._respond(req, entry, 200, [("Content-Type", "application/json")], body):
                        return
                    continue
                entry = self.server.stats.new_request(self.cid, req.method, req.target)
                try:
                    keep = self.dispatch(req, entry)
                except (ConnectionError, OSError, PeerClosed):
                    entry["aborted"] = True
                    return
                if not keep:
                    if req.params.get("early"):
                        self._linger()
                    return
        finally:
            self.server.stats.closed(self.cid)
            try:
                self.sock.close()
            except OSError:
                pass

    def dispatch(self, req, entry):
        path = req.path
        if path == "/":
            return self._respond(req, entry, 200, [("Content-Type", "text/html; charset=utf-8")],
                                 DEMO_PAGE)
        if path == "/-/health":
            return self._respond(req, entry, 200, [("Content-Type", "text/plain")], b"ok\n")
        if path == "/cached":
            # A page a shared cache may keep for a minute: through gatehouse the second request
            # is a hit (X-Cache: HIT) that never reaches this backend.
            return self._respond(req, entry, 200, [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "public, max-age=60"),
                ("ETag", '"demo-cached-1"')], CACHED_PAGE)
        if path.startswith("/bytes/"):
            return self.bytes(req, entry, int(path[len("/bytes/"):]))
        if path.startswith("/status/"):
            status = int(path[len("/status/"):])
            return self._respond(req, entry, status, [("Content-Type", "text/plain")],
                                 ("status %d\n" % status).encode())
        if path == "/hop":
            return self._respond(req, entry, 200, [
                ("Content-Type", "text/plain"),
                ("Connection", "keep-alive, X-Hop-Response"),
                ("Keep-Alive", "timeout=30"),
                ("Proxy-Connection", "keep-alive"),
                ("Upgrade", "example/1"),
                ("TE", "trailers"),
                ("X-Hop-Response", "secret"),
                ("X-End-To-End", "kept"),
            ], b"hop")
        if path == "/hang":
            return self.hang(entry)
        if path.startswith("/malformed/"):
            return self.malformed(req, entry, path[len("/malformed/"):])
        if path == "/ws":
            return websocket(self, req, entry)
        return self.echo(req, entry)

    def echo(self, req, entry):
        body = json.dumps({
            "server": self.server.name,
            "method": req.method,
            "target": req.target,
            "path": req.path,
            "query": req.query,
            "version": req.version,
            "headers": [[n, v] for n, v in req.headers],
            "body_length": req.body_length,
            "body_sha256": req.body_sha256,
            "body_chunked": req.body_chunked,
            "expect_continue": req.expect_continue,
            "connection": {"id": self.cid, "peer": self.peer, "request_index": self.requests},
        }, indent=1).encode() + b"\n"
        return self._respond(req, entry, 200, [("Content-Type", "application/json")], body)

    def bytes(self, req, entry, n):
        p = req.params
        chunk = max(1, min(int(p.get("chunk", 65536)), MAX_PIECE))
        chunked = p.get("chunked") == "1"
        close_delimited = p.get("close") == "1"
        pause = float(p.get("pause", 0))
        if "sndbuf" in p:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(p["sndbuf"]))
        if float(p.get("delay", 0)) > 0:
            time.sleep(float(p["delay"]))
        fields = [("Content-Type", "application/octet-stream"),
                  ("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))]
        if p.get("stream") == "1":
            fields.append(("X-Accel-Buffering", "no"))
        close = req.wants_close() or close_delimited
        if close:
            fields.append(("Connection", "close"))
        elif req.version == "HTTP/1.0":
            fields.append(("Connection", "keep-alive"))
        if chunked and not close_delimited:
            fields.append(("Transfer-Encoding", "chunked"))
        elif not close_delimited:
            fields.append(("Content-Length", str(n)))
        self.sock.sendall(self._head(200, fields))
        if req.method == "HEAD":
            entry["finished"] = True
            return not close
        if float(p.get("head_pause", 0)) > 0:
            time.sleep(float(p["head_pause"]))
        sent = 0
        while sent < n:
            take = min(chunk, n - sent)
            data = _piece(sent, take)
            if chunked and not close_delimited:
                self.sock.sendall(b"%x\r\n" % take)
                self.sock.sendall(data)
                self.sock.sendall(b"\r\n")
            else:
                self.sock.sendall(data)
            sent += take
            entry["bytes_sent"] = sent
            if pause > 0 and sent < n:
                time.sleep(pause)
        if chunked and not close_delimited:
            self.sock.sendall(b"0\r\n\r\n")
        entry["finished"] = True
        if close_delimited:
            self.sock.shutdown(socket.SHUT_WR)
        return not close

    def hang(self, entry):
        self.sock.settimeout(1.0)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        entry["peer_closed"] = True
        return False

    def malformed(self, req, entry, kind):
        if kind == "status":
            self.sock.sendall(b"HTTP/1.1 abc Bad\r\nContent-Length: 2\r\n\r\nhi")
        elif kind == "garbage":
            self.sock.sendall(b"this is not http at all\r\n\r\n")
        elif kind == "two-cl":
            self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello, ")
        elif kind == "chunk":
            self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(16):
                self.sock.sendall(b"1000\r\n" + bytes(_piece(i * 4096, 4096)) + b"\r\n")
            entry["bytes_sent"] = 65536
            self.sock.sendall(b"zz\r\nbroken\r\n")
            time.sleep(0.5)
        elif kind == "truncated":
            self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              b"Content-Length: 100000\r\n\r\n" + bytes(_piece(0, 50000)))
            entry["bytes_sent"] = 50000
            time.sleep(0.2)
        elif kind == "extra":
            self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                              b"\r\nhello"
                              b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n"
                              b"\r\nSMUGGLED")
            entry["bytes_sent"] = 5
            entry["finished"] = True
            return True
        else:
            return self._respond(req, entry, 404, [("Content-Type", "text/plain")],
                                 b"unknown malformed kind\n")
        entry["finished"] = True
        return False


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def websocket_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def websocket(conn, req, entry):
    """/ws (see the module doc): returns False, the connection is not HTTP any more."""
    p = req.params
    if "status" in p:
        return conn._respond(req, entry, int(p["status"]), [("Content-Type", "text/plain")],
                             b"no websocket here\n")
    if p.get("drop"):
        return False
    key = req.header("sec-websocket-key")
    asked = "websocket" in req.tokens("upgrade") and "upgrade" in req.tokens("connection")
    if not p.get("force") and not (asked and key):
        return conn._respond(req, entry, 400, [("Content-Type", "text/plain")],
                             b"not a websocket handshake\n")
    fields = [("Upgrade", p.get("proto", "websocket")), ("Connection", "Upgrade"),
              ("Sec-WebSocket-Accept", "x" * 28 if p.get("bad_accept") else
               websocket_accept(key or ""))]
    if req.header("sec-websocket-protocol"):
        fields.append(("Sec-WebSocket-Protocol",
                       req.header("sec-websocket-protocol").split(",")[0].strip()))
    greeting = b""
    if p.get("greet"):
        greeting = json.dumps({"headers": [[n, v] for n, v in req.headers],
                               "method": req.method, "target": req.target}).encode() + b"\n"
    conn.sock.sendall(conn._head(101, fields, "Switching Protocols") + greeting)
    entry["finished"] = True
    pause = float(p.get("pause", 0))
    data = bytes(conn.buf)  # what came behind the request head
    conn.buf.clear()
    while True:
        if data:
            conn.sock.sendall(data)
            entry["bytes_sent"] = entry.get("bytes_sent", 0) + len(data)
            if pause:
                time.sleep(pause)
        data = conn.sock.recv(65536)
        if not data:
            break
    if p.get("after_eof"):
        conn.sock.sendall(p["after_eof"].encode())
    conn.sock.shutdown(socket.SHUT_WR)
    return False


class Server:
    def __init__(self, listen, name, verbose):
        self.name, self.verbose = name, verbose
        self.stats = Stats()
        if listen.startswith("unix:"):
            path = listen[len("unix:"):]
            if os.path.exists(path):
                os.unlink(path)
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.address = "unix:" + path
        else:
            host, _, port = listen.rpartition(":")
            host = host.strip("[]") or "127.0.0.1"
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, int(port)))
            bound = self.sock.getsockname()
            self.address = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % (bound[0], bound[1])
        self.sock.listen(1024)

    def note(self, msg):
        if self.verbose:
            print("backend: %s" % msg, file=sys.stderr, flush=True)

    def run(self):
        while True:
            sock, peer = self.sock.accept()
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                peer = "%s:%d" % (peer[0], peer[1])
            else:
                peer = "unix"
            conn = Connection(self, sock, peer)
            self.note("connection %d from %s" % (conn.cid, peer))
            threading.Thread(target=conn.serve, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description="gatehouse demo and test backend")
    ap.add_argument("--listen", default="127.0.0.1:8000",
                    help="host:port (port 0 picks one) or unix:/path")
    ap.add_argument("--name", default="backend", help="reported as 'server' by /echo")
    ap.add_argument("--verbose", action="store_true", help="log connections to stderr")
    args = ap.parse_args()
    server = Server(args.listen, args.name, args.verbose)
    print("listening: %s" % server.address, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
