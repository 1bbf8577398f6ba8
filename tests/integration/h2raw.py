# SPDX-License-Identifier: MIT
"""A hand-made HTTP/2 client for the attack tests: frames built byte by byte (RFC 9113 4, 6) and an
HPACK encoder of literals and indexes (RFC 7541), so a test can send exactly what a well-behaved
library would refuse to. Reading is minimal: frame headers and payloads, no HPACK decoding."""
import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xb

SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream & 0x7FFFFFFF) + payload


def settings(*pairs, ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0,
                 b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def ping(data=b"12345678", ack=False):
    return frame(PING, ACK if ack else 0, 0, data)


def window_update(stream, increment):
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment))


def rst_stream(stream, code=CANCEL):
    return frame(RST_STREAM, 0, stream, struct.pack(">I", code))


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value, index=False):
    """A literal field with a new name, without (0x00) or with (0x40) incremental indexing."""
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    head = bytes([0x40]) if index else bytes([0x00])
    return head + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def hpack_indexed(index):
    return hpack_int(index, 7, 0x80)


def request_block(path="/", method="GET", authority="localhost", scheme="http", extra=()):
    block = b"".join(hpack_literal(n, v) for n, v in (
        (":method", method), (":scheme", scheme), (":authority", authority), (":path", path)))
    return block + b"".join(hpack_literal(n, v) for n, v in extra)


def headers(stream, block, end_stream=True, end_headers=True):
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    return frame(HEADERS, flags, stream, block)


class Conn:
    """One raw HTTP/2 connection: the preface and our SETTINGS are sent at once."""

    def __init__(self, addr, settings_pairs=(), timeout=5.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.send(PREFACE + settings(*settings_pairs))

    def send(self, data):
        """Sends what the server takes; False once it closed or reset the connection."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except OSError:  # a reset after the server's GOAWAY and close
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def read_frame(self, timeout=5.0):
        """The next frame as (type, flags, stream, payload), or None at the end or on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            if self.closed or time.monotonic() >= deadline or not self._fill(deadline):
                return None
        length = int.from_bytes(self.buf[:3], "big")
        ftype, flags = self.buf[3], self.buf[4]
        stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
        payload = bytes(self.buf[9:9 + length])
        del self.buf[:9 + length]
        return ftype, flags, stream, payload

    def frames_until(self, pred, timeout=5.0):
        """Reads frames until pred(frame) is true (returns that frame) or the connection ends."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            f = self.read_frame(deadline - time.monotonic())
            if f is None:
                break
            seen.append(f)
            if pred(f):
                return f, seen
        return None, seen

    def goaway(self, timeout=5.0):
        """The error code of the GOAWAY the server sends, or None if none came."""
        f, _ = self.frames_until(lambda f: f[0] == GOAWAY, timeout)
        return int.from_bytes(f[3][4:8], "big") if f else None

    def wait_closed(self, timeout=5.0):
        """True once the server closed the connection (EOF or reset) within |timeout|."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            if not self._fill(deadline):
                continue
            self.buf.clear()
        return self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def h2c_supported(gh):
    """Whether gatehouse's plain listener hands the HTTP/2 preface over (it answers SETTINGS)."""
    c = Conn(gh.hostport)
    f = c.read_frame(3)
    c.close()
    return f is not None and f[0] == SETTINGS
