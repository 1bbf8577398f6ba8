# SPDX-License-Identifier: MIT
"""A programmable origin for the cache tests: told per path what to answer, it counts the
requests it gets (the proof of a hit is a count that did not move)."""
import hashlib
import socket
import threading
import time

import ghtest


# The generated bodies: a block of a prime length (an offset error never lands on the same
# bytes), repeated; built once.
_BLOCK_LEN = 1000003
_block = None


def _gen_block():
    global _block
    if _block is None:
        out = bytearray()
        i = 0
        while len(out) < _BLOCK_LEN:
            out += hashlib.sha256(b"gatehouse-%d" % i).digest()
            i += 1
        _block = bytes(out[:_BLOCK_LEN])
    return _block


def generated_pieces(size, piece=1 << 20):
    """The generated body of |size| bytes, as memoryviews of at most |piece| bytes."""
    block = memoryview(_gen_block())
    off = 0
    while off < size:
        start = off % _BLOCK_LEN
        take = min(piece, size - off, _BLOCK_LEN - start)
        yield block[start:start + take]
        off += take


def generated(size):
    return b"".join(generated_pieces(size))


def generated_sha256(size):
    h = hashlib.sha256()
    for p in generated_pieces(size):
        h.update(p)
    return h.hexdigest()


class Answer:
    """What the origin sends for a path: status, fields, body; |die_after| cuts the body after
    that many bytes (then closes); |delay| waits before the head; |chunked| frames in chunks.
    |size|: the body is generated(size), streamed without being held in memory (for bodies of
    gigabytes). |hold|: an Event; after |hold_after| body bytes the origin sets |held| (an Event
    it creates) and waits for |hold| before it sends the rest: a body cut in the middle, for as
    long as the test wants."""

    def __init__(self, status=200, headers=(), body=b"hello", die_after=None, delay=0,
                 chunked=False, reason="OK", size=None, hold=None, hold_after=0):
        self.status, self.headers, self.body = status, list(headers), body
        self.die_after, self.delay, self.chunked, self.reason = die_after, delay, chunked, reason
        self.size, self.hold, self.hold_after = size, hold, hold_after
        self.held = threading.Event()

    def length(self):
        return self.size if self.size is not None else len(self.body)

    def pieces(self):
        if self.size is not None:
            return generated_pieces(self.size)
        return (memoryview(self.body)[i:i + (1 << 20)] for i in range(0, len(self.body), 1 << 20))


class Origin:
    def __init__(self):
        self.answers = {}
        self.requests = []  # (method, target, {lowercased name: value})
        self.lock = threading.Lock()
        self.conns = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, path, answer=None, **kw):
        self.answers[path] = answer if answer is not None else Answer(**kw)

    def count(self, path=None):
        with self.lock:
            return sum(1 for _, t, _ in self.requests if path is None or t.split("?")[0] == path)

    def last(self, path):
        with self.lock:
            for r in reversed(self.requests):
                if r[1].split("?")[0] == path:
                    return r
        return None

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        c.settimeout(20)
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                fields = {}
                for l in lines[1:]:
                    n, _, v = l.partition(":")
                    fields[n.strip().lower()] = v.strip()
                length = int(fields.get("content-length", "0"))
                while len(buf) < length:
                    buf += c.recv(65536)
                buf = buf[length:]
                with self.lock:
                    self.requests.append((method, target, fields))
                a = self.answers.get(target.split("?")[0], Answer(status=404, body=b"none"))
                if callable(a):
                    a = a(method, target, fields)
                if a.delay:
                    time.sleep(a.delay)
                if not self._answer(c, method, a):
                    return
        except OSError:
            pass
        finally:
            c.close()

    def _answer(self, c, method, a):
        out = ["HTTP/1.1 %d %s" % (a.status, a.reason)]
        out += ["%s: %s" % kv for kv in a.headers]
        bodiless = method == "HEAD" or a.status in (204, 304)
        if a.chunked and not bodiless:
            out.append("Transfer-Encoding: chunked")
        elif a.status != 304:
            out.append("Content-Length: %d" % a.length())
        c.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if bodiless:
            return True
        if a.size is not None or a.hold is not None:
            return self._stream(c, a)
        body = a.body if a.die_after is None else a.body[:a.die_after]
        if a.chunked:
            for i in range(0, len(body), 1000):
                piece = body[i:i + 1000]
                c.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            if a.die_after is None:
                c.sendall(b"0\r\n\r\n")
        else:
            c.sendall(body)
        if a.die_after is not None:
            time.sleep(0.1)
            return False
        return True

    def _stream(self, c, a):
        """A body sent piece by piece (generated, or held in the middle); Content-Length only."""
        sent = 0
        for piece in a.pieces():
            if a.hold is not None and not a.held.is_set() and sent + len(piece) > a.hold_after:
                cut = a.hold_after - sent
                c.sendall(piece[:cut])
                sent += cut
                piece = piece[cut:]
                a.held.set()
                a.hold.wait(30)
            c.sendall(piece)
            sent += len(piece)
        return True

    def stop(self):
        """Closes the listener and every connection: the backend is dead."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (a close alone does not)
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def cache_stack(factory, cache=None, **over):
    """An Origin and a gatehouse with a cache: section in front of it (one worker)."""
    origin = Origin()
    cfg = factory.config([origin.address], workers=1,
                         cache=dict({"memory": "64MiB", "status_header": "X-Cache"}, **(cache or {})),
                         **over)
    gh = factory.gatehouse(cfg)
    return origin, gh


def get(gh, target, headers=(), method="GET", host="test.example"):
    return ghtest.request(gh, method=method, target=target, headers=headers, host=host)
