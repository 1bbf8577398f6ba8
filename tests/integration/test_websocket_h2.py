# SPDX-License-Identifier: MIT
"""WebSocket over HTTP/2 (RFC 8441) through gatehouse, with python3-h2 over h2c and h2 over TLS:
SETTINGS_ENABLE_CONNECT_PROTOCOL, extended CONNECT forwarded as an HTTP/1.1 upgrade with a key
gatehouse made, the backend's 101 answered as :status 200, then DATA both ways as the tunnel."""
import hashlib
import json
import os
import socket
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from ghtest import header_values
import ghtest
import tlsutil

MiB = 1 << 20
ENABLE_CONNECT_PROTOCOL = 0x8


class H2Client:
    """One HTTP/2 connection driven by hand; every wait is bounded."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(ghtest.TIMEOUT)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                        validate_outbound_headers=False,
                                        validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        self.flush()
        self.server_settings = {}
        self.headers, self.data, self.ended, self.reset = {}, {}, set(), {}
        self.wait(lambda: ENABLE_CONNECT_PROTOCOL in self.server_settings or
                  h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in self.server_settings)

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def read_once(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return True
        if not data:
            return False
        for ev in self.conn.receive_data(data):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                for code, s in ev.changed_settings.items():
                    self.server_settings[int(code)] = s.new_value
            elif isinstance(ev, h2.events.ResponseReceived):
                self.headers[ev.stream_id] = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                self.data.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                self.reset[ev.stream_id] = ev.error_code
        self.flush()
        return True

    def wait(self, pred, timeout=ghtest.TIMEOUT):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            assert left > 0, "timed out"
            if not self.read_once(min(left, 0.2)):
                assert pred(), "connection closed"
                return

    def connect_ws(self, path, extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                                     (":scheme", "http"), (":path", path),
                                     (":authority", "localhost"),
                                     ("sec-websocket-version", "13"), *extra])
        self.flush()
        self.wait(lambda: sid in self.headers or sid in self.reset)
        return sid

    def take(self, sid, n, timeout=ghtest.TIMEOUT):
        self.wait(lambda: len(self.data.get(sid, b"")) >= n, timeout)
        buf = self.data[sid]
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def line(self, sid):
        self.wait(lambda: b"\n" in self.data.get(sid, b""))
        i = self.data[sid].index(b"\n")
        return self.take(sid, i + 1)[:-1]

    def send(self, sid, data, end=False):
        """Sends |data| as the flow-control windows allow, reading (and acking) meanwhile."""
        view = memoryview(data)
        while view:
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room <= 0:
                assert self.read_once(1.0), "connection closed"
                continue
            self.conn.send_data(sid, bytes(view[:room]))
            view = view[room:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture
def stack(factory, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    backend = factory.backend()
    gh = factory.gatehouse(tlsutil.tls_stack_config(factory, backend, certs,
                                                    timeouts={"client_idle": "2s"}))
    gh.certs = certs
    return gh


def h2c(gh):
    return H2Client(socket.create_connection(ghtest.hostport(gh.listeners["http"]),
                                             timeout=ghtest.TIMEOUT))


def h2tls(gh):
    raw = socket.create_connection(tlsutil.https_addr(gh), timeout=ghtest.TIMEOUT)
    s = tlsutil.client_context(gh.certs, alpn=("h2",)).wrap_socket(raw, server_hostname="localhost")
    assert s.selected_alpn_protocol() == "h2"
    return H2Client(s)


@pytest.mark.parametrize("transport", ["h2c", "h2"])
def test_extended_connect_is_a_websocket_tunnel(stack, transport):
    c = h2c(stack) if transport == "h2c" else h2tls(stack)
    assert c.server_settings.get(ENABLE_CONNECT_PROTOCOL) == 1
    sid = c.connect_ws("/ws?greet=1&after_eof=bye",
                       [("sec-websocket-protocol", "actioncable-v1-json"),
                        ("sec-websocket-key", "Y2xpZW50J3Mgb3duIGtleQ==")])
    head = c.headers[sid]
    assert head[":status"] == "200", head
    assert head.get("sec-websocket-protocol") == "actioncable-v1-json"
    assert "sec-websocket-accept" not in head and "upgrade" not in head
    # What the HTTP/1.1 backend received: a GET upgrade with the key gatehouse made.
    greeting = json.loads(c.line(sid))
    assert greeting["method"] == "GET" and greeting["target"] == "/ws?greet=1&after_eof=bye"
    assert [v.lower() for v in header_values(greeting, "connection")] == ["upgrade"]
    assert header_values(greeting, "upgrade") == ["websocket"]
    assert header_values(greeting, "sec-websocket-version") == ["13"]
    key = header_values(greeting, "sec-websocket-key")
    assert len(key) == 1 and len(key[0]) == 24 and key[0] != "Y2xpZW50J3Mgb3duIGtleQ=="
    for msg in (b"hello", os.urandom(100000)):
        c.send(sid, msg)
        assert c.take(sid, len(msg)) == msg
    # Several MiB through the client's windows both ways.
    big = os.urandom(4 * MiB)
    received = bytearray()
    view = memoryview(big)
    deadline = time.monotonic() + 60
    while len(received) < len(big):
        assert time.monotonic() < deadline
        room = min(c.conn.local_flow_control_window(sid), c.conn.max_outbound_frame_size,
                   len(view))
        if room > 0:
            c.conn.send_data(sid, bytes(view[:room]))
            view = view[room:]
            c.flush()
        assert c.read_once(0.2)
        received += c.data.get(sid, b"")
        c.data[sid] = bytearray()
    assert hashlib.sha256(received).digest() == hashlib.sha256(big).digest()
    # END_STREAM is a half-close: the backend still answers, then ends the stream.
    c.send(sid, b"end", end=True)
    c.wait(lambda: sid in c.ended or sid in c.reset)
    assert sid not in c.reset
    assert bytes(c.data[sid]) == b"end" + b"bye"
    # The connection still serves other streams.
    sid2 = c.connect_ws("/ws")
    assert c.headers[sid2][":status"] == "200"
    c.send(sid2, b"again")
    assert c.take(sid2, 5) == b"again"
    c.close()


def test_idle_websocket_stream_is_reset_after_client_idle(stack):
    c = h2c(stack)
    sid = c.connect_ws("/ws")
    assert c.headers[sid][":status"] == "200"
    start = time.monotonic()
    c.wait(lambda: sid in c.reset or sid in c.ended, timeout=8)
    took = time.monotonic() - start
    assert 1.5 <= took <= 4.5, took
    c.close()


def test_refused_upgrade_and_bad_answers(stack):
    c = h2c(stack)
    # The backend's 400 passes on as a normal response.
    sid = c.connect_ws("/ws?status=400")
    assert c.headers[sid][":status"] == "400"
    c.wait(lambda: sid in c.ended)
    assert bytes(c.data[sid]) == b"no websocket here\n"
    # A wrong Sec-WebSocket-Accept for gatehouse's key is the backend's fault: 502.
    sid = c.connect_ws("/ws?bad_accept=1")
    assert c.headers[sid][":status"] == "502"
    # A 101 to a request that did not ask for it: 502.
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":path", "/ws?force=1"),
                              (":authority", "localhost")], end_stream=True)
    c.flush()
    c.wait(lambda: sid in c.headers)
    assert c.headers[sid][":status"] == "502"
    # Plain CONNECT stays refused, as does another :protocol.
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "CONNECT"), (":authority", "localhost:443")])
    c.flush()
    c.wait(lambda: sid in c.headers or sid in c.reset)
    assert c.headers.get(sid, {}).get(":status") == "501"
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "connect-udp"),
                              (":scheme", "http"), (":path", "/"), (":authority", "localhost")])
    c.flush()
    c.wait(lambda: sid in c.headers or sid in c.reset)
    assert c.headers.get(sid, {}).get(":status") == "501"
    c.close()
