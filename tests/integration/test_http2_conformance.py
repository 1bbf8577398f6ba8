# SPDX-License-Identifier: MIT
"""RFC 9113 conformance seen from a raw client, over h2c (prior knowledge) and TLS (ALPN h2):
frames on closed streams (5.1), stream ids going down (5.1.1), PRIORITY frames depending on
themselves or on stream 0 (5.3.1, 6.3), invalid connection prefaces (3.4, 3.5). Each case asserts
the exact frame the client gets."""
import socket
import struct

import pytest

from conftest import _Factories
import h2raw
from h2raw import DATA, GOAWAY, HEADERS, PRIORITY, RST_STREAM, SETTINGS, END_STREAM
import tlsutil

STREAM_CLOSED = 0x5


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("h2conf")
    f = _Factories(tmp)
    try:
        certs = tlsutil.Certs(str(tmp))
        backend = f.backend()
        gh = f.gatehouse(tlsutil.tls_stack_config(f, backend, certs,
                                                  limits={"max_request_body": "1KiB"}))
    except BaseException:
        f.teardown()
        raise
    gh.certs = certs
    yield gh
    f.teardown()


class Conn(h2raw.Conn):
    """h2raw.Conn over h2c or TLS (ALPN h2), sending |preface| (by default the real one and an
    empty SETTINGS)."""

    def __init__(self, gh, tls, preface=None):
        if tls:
            raw = socket.create_connection(tlsutil.https_addr(gh), timeout=5)
            ctx = tlsutil.client_context(gh.certs, alpn=("h2",))
            self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
            assert self.sock.selected_alpn_protocol() == "h2"
        else:
            self.sock = socket.create_connection(gh.hostport, timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.send(h2raw.PREFACE + h2raw.settings() if preface is None else preface)

    def handshake(self):
        f, _ = self.frames_until(lambda f: f[0] == SETTINGS and not f[1] & h2raw.ACK)
        assert f, "no SETTINGS from the server"
        self.send(h2raw.settings(ack=True))

    def get(self, stream, path="/echo", end_stream=True):
        self.send(h2raw.headers(stream, h2raw.request_block(path), end_stream=end_stream))

    def response_done(self, stream):
        """Reads until |stream|'s response ends; returns its frames."""
        f, seen = self.frames_until(lambda f: f[2] == stream and f[1] & END_STREAM and
                                    f[0] in (HEADERS, DATA))
        assert f, "no complete response on stream %d: %r" % (stream, seen)
        return seen

    def next_of(self, *types):
        f, seen = self.frames_until(lambda f: f[0] in types)
        assert f, "none of %r came: %r (closed: %s)" % (types, seen, self.closed)
        return f


def rst_code(f):
    assert f[0] == RST_STREAM, f
    return struct.unpack(">I", f[3][:4])[0]


def goaway_code(f):
    assert f[0] == GOAWAY, f
    return struct.unpack(">I", f[3][4:8])[0]


def data(stream, payload=b"x", end_stream=True):
    return h2raw.frame(DATA, END_STREAM if end_stream else 0, stream, payload)


def priority(stream, depends_on, weight=16):
    return h2raw.frame(PRIORITY, 0, stream, struct.pack(">IB", depends_on, weight))


@pytest.fixture(params=["h2c", "tls"])
def conn(request, stack):
    c = Conn(stack, request.param == "tls")
    c.handshake()
    yield c
    c.close()


def still_serves(c, stream):
    c.get(stream)
    frames = c.response_done(stream)
    assert any(f[0] == HEADERS and f[2] == stream for f in frames)


@pytest.mark.parametrize("kind", ["DATA", "HEADERS"])
def test_a_frame_after_the_clients_rst_stream_is_a_stream_error_stream_closed(conn, kind):
    conn.get(1, end_stream=False)
    conn.send(h2raw.rst_stream(1))
    conn.send(data(1) if kind == "DATA" else h2raw.headers(1, h2raw.request_block("/echo")))
    f = conn.next_of(RST_STREAM, GOAWAY)
    assert f[2] == 1 and rst_code(f) == STREAM_CLOSED
    still_serves(conn, 3)  # a stream error: the connection goes on


@pytest.mark.parametrize("kind", ["DATA", "HEADERS"])
def test_a_frame_on_a_stream_closed_by_end_stream_is_a_connection_error(conn, kind):
    conn.get(1)
    conn.response_done(1)
    conn.send(data(1) if kind == "DATA" else h2raw.headers(1, h2raw.request_block("/echo")))
    assert goaway_code(conn.next_of(RST_STREAM, GOAWAY)) == STREAM_CLOSED
    assert conn.wait_closed()


def test_frames_the_client_sent_before_seeing_our_rst_stream_are_ignored(conn):
    # A body over max_request_body: 413, and the rest of the request is reset (NO_ERROR).
    conn.send(h2raw.headers(1, h2raw.request_block("/echo", method="POST"), end_stream=False))
    conn.send(data(1, b"x" * 2000, end_stream=False))
    f = conn.next_of(RST_STREAM, GOAWAY)
    assert f[2] == 1 and rst_code(f) == h2raw.NO_ERROR
    conn.send(data(1, b"x" * 100))
    still_serves(conn, 3)


def test_a_stream_id_below_one_already_used_is_a_protocol_error(conn):
    conn.get(5)
    conn.get(3)
    assert goaway_code(conn.next_of(GOAWAY)) == h2raw.PROTOCOL_ERROR
    assert conn.wait_closed()


@pytest.mark.parametrize("stream", [1, 3])
def test_a_priority_frame_depending_on_its_own_stream_is_a_protocol_error(conn, stream):
    if stream == 3:
        conn.get(1)
        conn.response_done(1)
    conn.send(priority(stream, stream))
    f = conn.next_of(RST_STREAM, GOAWAY)
    assert (rst_code(f) if f[0] == RST_STREAM else goaway_code(f)) == h2raw.PROTOCOL_ERROR


def test_a_headers_frame_depending_on_its_own_stream_is_a_protocol_error(conn):
    block = struct.pack(">IB", 1, 16) + h2raw.request_block("/echo")
    conn.send(h2raw.frame(HEADERS, END_STREAM | h2raw.END_HEADERS | 0x20, 1, block))
    f = conn.next_of(RST_STREAM, GOAWAY)
    assert (rst_code(f) if f[0] == RST_STREAM else goaway_code(f)) == h2raw.PROTOCOL_ERROR


def test_a_priority_frame_on_stream_0_is_a_connection_error(conn):
    conn.send(priority(0, 1))
    assert goaway_code(conn.next_of(GOAWAY)) == h2raw.PROTOCOL_ERROR
    assert conn.wait_closed()


def test_a_valid_priority_frame_is_accepted(conn):
    conn.send(priority(1, 0) + priority(7, 3))
    still_serves(conn, 1)


@pytest.mark.parametrize("preface", [
    b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",  # the start of a preface, then wrong
    b"PRI * HTTP/2.0\r\n\r\n",            # and cut short by a close of the write side
])
def test_a_wrong_h2c_preface_gets_goaway_protocol_error_and_the_close(stack, preface):
    c = Conn(stack, tls=False, preface=preface)
    if preface.endswith(b"\r\n\r\n") and len(preface) < 24:
        c.send(b"XXXXXX")
    try:
        f = c.next_of(GOAWAY)
        assert goaway_code(f) == h2raw.PROTOCOL_ERROR
        assert c.wait_closed()
    finally:
        c.close()


def test_an_invalid_preface_after_alpn_h2_gets_goaway_protocol_error_and_the_close(stack):
    c = Conn(stack, tls=True, preface=b"INVALID CONNECTION PREFACE\r\n\r\n")
    try:
        assert goaway_code(c.next_of(GOAWAY)) == h2raw.PROTOCOL_ERROR
        assert c.wait_closed()
    finally:
        c.close()


def test_a_priority_flood_is_still_a_flood(conn):
    # Valid PRIORITY frames are skipped by nghttp2, but each still costs the control budget.
    conn.send(b"".join(priority(2 * i + 1, 0) for i in range(3000)))
    assert goaway_code(conn.next_of(GOAWAY)) == h2raw.ENHANCE_YOUR_CALM
