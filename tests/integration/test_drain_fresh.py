# SPDX-License-Identifier: MIT
"""A reload that starts a new worker (or a graceful stop) lets the connections that have not had
their first request yet finish: TLS connections mid-handshake or handshaken and silent, plain
connections accepted with nothing sent, fresh HTTP/2 connections with no stream yet. Each gets its
first request answered, then the close (or the GOAWAY). Idle keep-alive connections are still
closed at once. (A reload in place drains nothing: test_reload_inprocess.py.)"""
import re
import signal
import socket
import ssl
import threading
import time

import pytest

import ghtest
import h2raw
import tlsutil
from ghtest import build, wait_for

REQUEST = build("GET", "/echo", close=True)


@pytest.fixture
def tls(factory, backend, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    gh = factory.gatehouse(tlsutil.tls_stack_config(factory, backend, certs))
    gh.certs = certs
    gh.cfg = tlsutil.tls_stack_config(factory, backend, certs)
    return gh


def stop_notices(gh):
    return len([l for l in gh.stderr_lines if "stopping: finishing in-flight requests" in l])


def reloads(gh):
    return len([l for l in gh.stderr_lines if re.search(r"reload: config generation \d+ serving", l)])


def hup_and_wait_drain(gh):
    """HUP with a config whose number of event loops differs (so a new worker takes over);
    returns once the new config serves and the old worker has begun its drain."""
    gh.cfg = dict(gh.cfg, workers=3 - gh.cfg.get("workers", 1))
    gh.write_config(gh.cfg)
    before, served = stop_notices(gh), reloads(gh)
    gh.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: reloads(gh) > served), gh.stderr()
    assert wait_for(lambda: stop_notices(gh) > before), gh.stderr()


class MidHandshake:
    """A TLS client driven by hand over a raw socket: the ClientHello is sent and the server's
    flight read, the client's Finished is held back until finish()."""

    def __init__(self, gh, alpn=("http/1.1",)):
        self.sock = socket.create_connection(tlsutil.https_addr(gh), timeout=ghtest.TIMEOUT)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        ctx = tlsutil.client_context(gh.certs, alpn=alpn)
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
        self._step()
        self.sock.sendall(self.out.read())  # the ClientHello
        # The server's reply (ServerHello .. Finished): the server now waits for ours.
        while True:
            self.inc.write(self.sock.recv(65536))
            if self._step():
                break

    def _step(self):
        try:
            self.tls.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    def request(self, data):
        self.tls.write(data)
        self.sock.sendall(self.out.read())  # Finished and the request, together
        got = bytearray()
        while True:
            try:
                chunk = self.tls.read(65536)
                got += chunk
                if not chunk:
                    break
                continue
            except ssl.SSLWantReadError:
                pass
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
            data = self.sock.recv(65536)
            if not data:
                break
            self.inc.write(data)
        self.sock.close()
        return bytes(got)


def h2_get(sock):
    """One GET over a fresh HTTP/2 connection; returns (status, the GOAWAY's last stream id)."""
    sock.sendall(h2raw.PREFACE + h2raw.settings() +
                 h2raw.headers(1, h2raw.request_block("/echo", scheme="https")))
    buf = bytearray()
    status, goaway, ended = None, None, False
    deadline = time.monotonic() + ghtest.TIMEOUT
    while time.monotonic() < deadline and not (ended and goaway is not None):
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not data:
            break
        buf += data
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            ftype, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            payload = bytes(buf[9:9 + n])
            del buf[:9 + n]
            if ftype == h2raw.HEADERS and stream == 1:
                status = 200 if payload[:1] == b"\x88" else payload  # :status 200, indexed
            if ftype in (h2raw.HEADERS, h2raw.DATA) and stream == 1 and flags & h2raw.END_STREAM:
                ended = True
            if ftype == h2raw.GOAWAY:
                goaway = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
    return status, goaway


def status_of(raw):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", raw)
    return int(m.group(1)) if m else raw[:60]


def test_a_reload_serves_the_first_request_of_fresh_connections(tls):
    gh = tls
    mid = [MidHandshake(gh) for _ in range(3)]
    mid_h2 = MidHandshake(gh, alpn=("h2",))
    silent_tls = [tlsutil.tls_connect(gh, gh.certs) for _ in range(3)]
    silent_h2 = tlsutil.tls_connect(gh, gh.certs, alpn=("h2",))
    assert silent_h2.sock.selected_alpn_protocol() == "h2"
    silent_plain = [gh.connect("http") for _ in range(3)]
    keepalive = gh.connect("http")  # one request done: an idle keep-alive connection
    keepalive.send(build("GET", "/echo"))
    assert keepalive.response().status == 200
    # The worker has them all (its accept queue is empty once it answered a later connection).
    assert ghtest.request(ghtest.hostport(gh.listeners["http"])).status == 200

    hup_and_wait_drain(gh)

    assert keepalive.closed_within(), "an idle keep-alive connection is closed by the drain"
    for m in mid:
        assert status_of(m.request(REQUEST)) == 200
    for c in silent_tls + silent_plain:
        c.send(REQUEST)
        r = c.response()
        assert r.status == 200 and r.header("connection") == "close"
        c.close()
    status, goaway = h2_get(silent_h2.sock)
    assert (status, goaway) == (200, 1)  # served, then the GOAWAY naming it
    silent_h2.close()
    # The mid-handshake h2 client: ALPN h2 comes with the server's flight; then the preface.
    mid_h2.tls.write(h2raw.PREFACE + h2raw.settings() +
                     h2raw.headers(1, h2raw.request_block("/echo", scheme="https")))
    mid_h2.sock.sendall(mid_h2.out.read())
    got = bytearray()
    deadline = time.monotonic() + ghtest.TIMEOUT
    while time.monotonic() < deadline and b"\x00\x00\x00\x00\x01" not in got[-64:]:
        data = mid_h2.sock.recv(65536)
        if not data:
            break
        mid_h2.inc.write(data)
        try:
            while True:
                got += mid_h2.tls.read(65536)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
    mid_h2.sock.close()
    assert b"\x01\x04\x00\x00\x00\x01\x88" in got or b"\x01\x05\x00\x00\x00\x01\x88" in got, got
    assert wait_for(lambda: len(gh.workers()) == 1, 15), "the old worker did not leave"


def test_a_silent_fresh_connection_does_not_hold_the_drain_past_client_header(
        factory, backend, tmp_path):
    certs = tlsutil.Certs(str(tmp_path))
    cfg = tlsutil.tls_stack_config(factory, backend, certs, timeouts={"client_header": "2s"})
    gh = factory.gatehouse(cfg)
    gh.certs, gh.cfg = certs, cfg
    c = tlsutil.tls_connect(gh, certs)  # handshaken (so accepted), then silent
    old = gh.workers()
    hup_and_wait_drain(gh)
    assert c.closed_within(4)
    assert wait_for(lambda: not set(old) & set(gh.workers()), 5), "the old worker stayed"


def hup_in_place(gh):
    """HUP with the same config: the running worker serves it in place."""
    served = reloads(gh)
    gh.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: reloads(gh) > served), gh.stderr()


@pytest.mark.parametrize("reload", [hup_and_wait_drain, hup_in_place],
                         ids=["new worker", "in place"])
def test_requests_over_fresh_tls_connections_survive_reloads(tls, reload):
    gh = tls
    failures, done = [], [0]
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                c = tlsutil.tls_connect(gh, gh.certs)
                c.send(REQUEST)
                r = c.response()
                c.close()
                if r.status != 200:
                    failures.append(r.status)
            except Exception as e:  # noqa: BLE001  (any failure counts)
                failures.append(repr(e))
            done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(5):
            start = done[0]
            assert wait_for(lambda: done[0] >= start + 20, 10)
            reload(gh)
        start = done[0]
        assert wait_for(lambda: done[0] >= start + 20, 10)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert done[0] > 100
    assert failures == []
