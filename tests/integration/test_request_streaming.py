# SPDX-License-Identifier: MIT
"""`buffering: off` streams request bodies (nginx's proxy_request_buffering off, as git push over
smart HTTP wants): the backend request starts while the client still sends, the bytes arrive
intact (Content-Length kept, or chunked when the client gave none), a slow backend holds back a
fast client instead of filling memory or a temporary file, and errors end the exchange cleanly."""
import hashlib
import json
import os
import re
import struct
import subprocess
import threading
import time

import pytest

from ghtest import (Raw, assert_echoed, build, chunked, header_values, sanitized_build,
                    wait_for)
import h2raw
from h2raw import h2c_supported
from test_buffering import total_rss_kib

MiB = 1 << 20


def streaming_config(factory, backend, **over):
    cfg = {
        "workers": 1,
        "limits": {"max_request_body": "64MiB"},
        "rules": [{"name": "push", "match": {"path_prefix": "/echo"}, "pool": "app",
                   "buffering": Raw("off")},
                  {"name": "push-status", "match": {"path_prefix": "/status/"}, "pool": "app",
                   "buffering": Raw("off")},
                  {"name": "default", "pool": "app"}],
    }
    cfg.update(over)
    return factory.config([backend.address], **cfg)


def send_slowly(c, data, piece=256 * 1024, pause=0.02):
    for i in range(0, len(data), piece):
        c.send(data[i:i + piece])
        time.sleep(pause)


def heads(backend):
    return backend.stats()["heads"]


def temp_files(gh, tmpdir):
    """Files under |tmpdir| the workers hold open (spilled bodies; O_TMPFILE ones included)."""
    out = []
    for pid in gh.workers():
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith(str(tmpdir)):
                out.append(target)
    return out


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_http1_body_reaches_the_backend_while_the_client_sends(factory, backend, framing):
    gh = factory.gatehouse(streaming_config(factory, backend))
    body = os.urandom(6 * MiB)
    before = heads(backend)
    c = gh.connect()
    if framing == "length":
        head = b"POST /echo?%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (
            framing.encode(), len(body))
        wire = body
    else:
        head = b"POST /echo?%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" % (
            framing.encode())
        wire = chunked(body, sizes=(65536, 1000, 7, 300000))
    c.send(head)
    send_slowly(c, wire[:len(wire) // 2])
    # Half the body is still with the client: the backend has the request already.
    assert wait_for(lambda: heads(backend) > before, timeout=5), \
        "backend request did not start while the body was coming"
    send_slowly(c, wire[len(wire) // 2:])
    r = c.response()
    c.close()
    assert r.status == 200
    echo = r.json()
    assert_echoed(echo, body)
    if framing == "length":
        assert header_values(echo, "content-length") == [str(len(body))]
        assert not echo["body_chunked"]
    else:
        assert echo["body_chunked"] and header_values(echo, "content-length") == []


def test_a_small_body_that_came_with_the_head_goes_whole(factory, backend):
    gh = factory.gatehouse(streaming_config(factory, backend))
    c = gh.connect()
    c.send(build("POST", "/echo?small", headers=[("Transfer-Encoding", "chunked")],
                 body=chunked(b"hello world")))
    r = c.response()
    c.close()
    echo = r.json()
    assert r.status == 200 and echo["body_length"] == 11
    assert header_values(echo, "content-length") == ["11"] and not echo["body_chunked"]


def test_keep_alive_goes_on_after_a_streamed_body(factory, backend):
    gh = factory.gatehouse(streaming_config(factory, backend))
    body = os.urandom(MiB)
    c = gh.connect()
    for i in range(2):
        c.send(b"POST /echo?ka%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (i, len(body)))
        send_slowly(c, body)
        r = c.response()
        assert r.status == 200 and r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    c.close()


def test_slow_backend_holds_back_a_fast_client(factory, backend):
    n = 20 * MiB
    gh = factory.gatehouse(streaming_config(factory, backend))
    assert factory_request_ok(gh)
    rss_before = total_rss_kib(gh)
    body = os.urandom(n)
    c = gh.connect()
    c.send(b"POST /echo?read_chunk=65536&read_pause=0.005 HTTP/1.1\r\nHost: x\r\n"
           b"Content-Length: %d\r\n\r\n" % n)
    sender = threading.Thread(target=c.sock.sendall, args=(body,), daemon=True)
    sender.start()
    peak, files = watch_streaming(gh, factory.tmpdir, sender.is_alive, rss_before)
    r = c.response()
    c.close()
    assert r.status == 200
    assert_echoed(r.json(), body)
    assert_streamed_in_memory(peak, files)


def watch_streaming(gh, tmpdir, running, rss_before):
    """While |running|() is true: the worker's largest RSS growth (KiB) and the temporary files
    it held."""
    peak, files = 0, []
    while running():
        peak = max(peak, total_rss_kib(gh) - rss_before)
        files += temp_files(gh, tmpdir)
        time.sleep(0.05)
    return peak, files


def assert_streamed_in_memory(peak, files):
    assert not files, "request body spilled to %r" % files[:3]
    if not sanitized_build():
        assert peak < 8 * 1024, "worker RSS grew by %d KiB for a streamed 20 MiB body" % peak


def factory_request_ok(gh):
    c = gh.connect()
    c.send(build("GET", "/echo?warm", close=True))
    r = c.response()
    c.close()
    return r.status == 200


def test_early_backend_answer_reaches_the_client_and_closes(factory, backend):
    gh = factory.gatehouse(streaming_config(factory, backend))
    body = os.urandom(8 * MiB)
    c = gh.connect()
    c.send(b"POST /status/413?early=1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
    c.send(body[:MiB])
    r = c.response()
    assert r.status == 413 and r.header("connection") == "close"
    assert c.closed_within(5)
    # The backend connection was not put back: the next request gets a new one, and works.
    echo = json.loads(factory_request_body(gh))
    assert echo["connection"]["request_index"] == 1


def factory_request_body(gh):
    c = gh.connect()
    c.send(build("GET", "/echo?after", close=True))
    r = c.response()
    c.close()
    return r.body


def test_a_client_that_stops_mid_body_times_out_and_the_backend_connection_closes(factory,
                                                                                   backend):
    gh = factory.gatehouse(streaming_config(factory, backend, timeouts={
        "client_body": "1s", "backend_connect": "2s", "backend_response": "10s"}))
    c = gh.connect()
    c.send(b"POST /echo?stall HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
    c.send(b"x" * 300000)
    assert wait_for(lambda: backend.entry("stall") is None and heads(backend) > 0, timeout=5)
    r = c.response()
    assert r.status == 408
    c.close()
    # The backend saw its connection close mid-body: nothing was reused or completed.
    assert wait_for(lambda: not backend.stats()["open_connections"], timeout=5)
    assert backend.entry("stall") is None


def test_a_chunked_body_over_the_limit_gets_413(factory, backend):
    gh = factory.gatehouse(streaming_config(factory, backend,
                                            limits={"max_request_body": "1MiB"}))
    c = gh.connect()
    c.send(b"POST /echo?big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    try:
        send_slowly(c, chunked(os.urandom(2 * MiB), sizes=(65536,)))
    except OSError:
        pass  # the connection may close before the client is done
    r = c.response()
    c.close()
    assert r.status == 413
    assert wait_for(lambda: not backend.stats()["open_connections"], timeout=5)
    assert backend.entry("big") is None


# ------------------------------------------------------------------------------------- HTTP/2

def h2_upload(gh, path, body, before_rest=None, length=False):
    """curl over h2c prior knowledge uploading |body| from a pipe (no content-length unless
    |length|); |before_rest| runs once half of it is written."""
    args = ["curl", "-sS", "--noproxy", "*", "--max-time", "60", "--http2-prior-knowledge",
            "-T", "-", gh.url(path)]
    if length:
        args[-1:-1] = ["-H", "Content-Length: %d" % len(body)]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    half = len(body) // 2
    for i in range(0, half, 256 * 1024):
        p.stdin.write(body[i:min(i + 256 * 1024, half)])
        p.stdin.flush()
        time.sleep(0.01)
    if before_rest:
        before_rest()
    p.stdin.write(body[half:])
    p.stdin.close()
    out, err = p.stdout.read(), p.stderr.read()
    p.wait(timeout=60)
    assert p.returncode == 0, err
    return json.loads(out)


@pytest.mark.parametrize("length", [False, True], ids=["no-length", "length"])
def test_http2_body_streams_to_the_backend(factory, backend, length):
    gh = factory.gatehouse(streaming_config(factory, backend))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    body = os.urandom(6 * MiB)
    before = heads(backend)

    def started():
        assert wait_for(lambda: heads(backend) > before, timeout=5), \
            "backend request did not start while the body was coming"

    echo = h2_upload(gh, "/echo?h2", body, before_rest=started, length=length)
    assert_echoed(echo, body)
    assert echo["body_chunked"] == (not length)


def test_http2_slow_backend_holds_back_a_fast_client(factory, backend):
    n = 20 * MiB
    gh = factory.gatehouse(streaming_config(factory, backend))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    assert factory_request_ok(gh)
    rss_before = total_rss_kib(gh)
    body = os.urandom(n)
    result = {}
    t = threading.Thread(target=lambda: result.update(echo=h2_upload(
        gh, "/echo?read_chunk=65536&read_pause=0.005", body)), daemon=True)
    t.start()
    peak, files = watch_streaming(gh, factory.tmpdir, t.is_alive, rss_before)
    assert_echoed(result["echo"], body)
    assert_streamed_in_memory(peak, files)


def test_http2_early_backend_answer_reaches_the_client(factory, backend, tmp_path):
    """The backend's 413 comes before the body is all sent: the client gets it, then
    RST_STREAM(NO_ERROR) (nghttp: curl 7.88 drops a response that comes with such a reset)."""
    gh = factory.gatehouse(streaming_config(factory, backend))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    path = tmp_path / "body"
    path.write_bytes(os.urandom(8 * MiB))
    out = subprocess.run(["nghttp", "-nv", "-d", str(path), gh.url("/status/413?early=1")],
                         capture_output=True, text=True, timeout=30)
    assert ":status: 413" in out.stdout, out.stdout[-3000:]
    assert re.search(r"recv RST_STREAM frame .*\n.*error_code=NO_ERROR", out.stdout)
    # The backend connection was not reused: the next request gets a new one, and works.
    assert json.loads(factory_request_body(gh))["connection"]["request_index"] == 1


def h2_post(c, stream, path, extra=()):
    c.send(h2raw.headers(stream, h2raw.request_block(path, method="POST", extra=extra),
                         end_stream=False))


def h2_data_frames(stream, data, end=False, piece=16384):
    out = b""
    for i in range(0, len(data), piece):
        last = end and i + piece >= len(data)
        out += h2raw.frame(h2raw.DATA, h2raw.END_STREAM if last else 0, stream, data[i:i + piece])
    return out


def h2_answer_body(frames, stream):
    return b"".join(f[3] for f in frames if f[0] == h2raw.DATA and f[2] == stream)


def test_http2_a_stream_that_stops_mid_body_gets_408_and_the_backend_connection_closes(
        factory, backend):
    gh = factory.gatehouse(streaming_config(factory, backend, timeouts={
        "client_body": "1s", "backend_connect": "2s", "backend_response": "10s"}))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    c = h2raw.Conn(gh.hostport)
    h2_post(c, 1, "/echo?h2stall", extra=(("content-length", "1000000"),))
    c.send(h2_data_frames(1, b"x" * 60000))  # within the default 65,535-byte windows
    assert wait_for(lambda: heads(backend) > 0, timeout=5), "the backend request did not start"
    end, seen = c.frames_until(lambda f: f[2] == 1 and (f[0] == h2raw.RST_STREAM or (
        f[0] == h2raw.DATA and f[1] & h2raw.END_STREAM)), timeout=6)
    assert end is not None, "no answer on the stalled stream: %r" % seen
    assert h2_answer_body(seen, 1).startswith(b"408 "), seen
    # The backend saw its connection close mid-body, and the request never completed there.
    assert wait_for(lambda: not backend.stats()["open_connections"], timeout=5)
    assert backend.entry("h2stall") is None
    # The connection itself goes on: the next stream is served.
    c.send(h2raw.headers(3, h2raw.request_block("/echo?h2after")))
    end, seen = c.frames_until(lambda f: f[2] == 3 and f[0] == h2raw.DATA and
                               f[1] & h2raw.END_STREAM, timeout=5)
    c.close()
    assert end is not None, seen
    assert json.loads(h2_answer_body(seen, 3))["target"] == "/echo?h2after"


def test_http2_a_body_over_the_limit_gets_413_without_reaching_the_backend_whole(factory,
                                                                                  backend):
    """No content-length, so the limit can only be seen as the bytes come: the stream gets 413
    (or, once the backend answered, a reset), and the backend never gets a complete request."""
    gh = factory.gatehouse(streaming_config(factory, backend,
                                            limits={"max_request_body": "1MiB"}))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    c = h2raw.Conn(gh.hostport)
    h2_post(c, 1, "/echo?h2big")
    body = os.urandom(2 * MiB)
    # Flow control as a client must keep it: the server's initial stream window, then its
    # WINDOW_UPDATEs for the stream and the connection.
    conn_window, stream_window, sent = 65535, 65535, 0
    seen, answered = [], False
    deadline = time.monotonic() + 20
    while not answered and time.monotonic() < deadline:
        room = min(conn_window, stream_window, 16384, len(body) - sent)
        if room > 0:
            if not c.send(h2_data_frames(1, body[sent:sent + room], end=sent + room == len(body))):
                break
            sent += room
            conn_window -= room
            stream_window -= room
        f = c.read_frame(timeout=0 if room > 0 else 2)
        while f is not None:
            seen.append(f)
            ftype, flags, stream, payload = f
            if ftype == h2raw.SETTINGS and not flags & h2raw.ACK:
                for i in range(0, len(payload), 6):
                    key, value = struct.unpack(">HI", payload[i:i + 6])
                    if key == h2raw.SETTINGS_INITIAL_WINDOW_SIZE:
                        stream_window += value - 65535
                c.send(h2raw.settings(ack=True))
            elif ftype == h2raw.WINDOW_UPDATE:
                inc = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
                if stream == 0:
                    conn_window += inc
                elif stream == 1:
                    stream_window += inc
            elif stream == 1 and (ftype == h2raw.RST_STREAM or (ftype == h2raw.DATA and
                                                                 flags & h2raw.END_STREAM)):
                answered = True
            elif ftype == h2raw.GOAWAY:
                answered = True
            f = c.read_frame(timeout=0)
    c.close()
    assert answered, "no answer after %d bytes sent: %r" % (sent, seen[-5:])
    assert sent < len(body), "the whole 2 MiB body was taken"
    rst = [f for f in seen if f[0] == h2raw.RST_STREAM and f[2] == 1]
    assert h2_answer_body(seen, 1).startswith(b"413 ") or rst, seen[-5:]
    assert wait_for(lambda: not backend.stats()["open_connections"], timeout=5)
    assert backend.entry("h2big") is None


def h2_until_pong(c, data=b"pong0001"):
    """Sends a PING and reads until its ACK: every frame the server sent before it, in order."""
    c.send(h2raw.ping(data))
    ack, seen = c.frames_until(lambda f: f[0] == h2raw.PING and f[1] & h2raw.ACK and
                               f[3] == data, timeout=5)
    assert ack is not None, "no PING ACK: %r" % seen[-5:]
    return seen


def resets_or_goaway(frames, stream):
    return [f for f in frames if (f[0] == h2raw.RST_STREAM and f[2] == stream) or
            f[0] == h2raw.GOAWAY]


@pytest.mark.parametrize("buffering", ["off", "on"])
def test_http2_a_body_whole_by_content_length_is_answered_and_never_reset(factory, backend,
                                                                          buffering):
    """All the bytes content-length announced came, END_STREAM not yet (curl -T - sends it in a
    DATA frame of its own, later): the request is whole, the backend answers, and the stream is
    not reset (curl 7.88 drops a response that a RST_STREAM follows, "Empty reply from server";
    the flake of test_http2_body_streams_to_the_backend[length]). The END_STREAM then closes it
    cleanly, and the backend connection goes back to the pool."""
    gh = factory.gatehouse(streaming_config(factory, backend))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    path = "/echo?whole" if buffering == "off" else "/whole?buffered"
    body = os.urandom(40000)  # within the default 65,535-byte windows
    c = h2raw.Conn(gh.hostport)
    h2_post(c, 1, path, extra=(("content-length", str(len(body))),))
    c.send(h2_data_frames(1, body))
    end, seen = c.frames_until(lambda f: f[2] == 1 and (f[0] == h2raw.RST_STREAM or (
        f[0] == h2raw.DATA and f[1] & h2raw.END_STREAM)), timeout=5)
    assert end is not None and end[0] == h2raw.DATA, "no complete answer: %r" % seen[-5:]
    echo = json.loads(h2_answer_body(seen, 1))
    assert_echoed(echo, body)
    assert header_values(echo, "content-length") == [str(len(body))]
    # Anything sent after the response comes before the PING's ACK.
    assert not resets_or_goaway(h2_until_pong(c), 1)
    c.send(h2raw.frame(h2raw.DATA, h2raw.END_STREAM, 1))
    assert not resets_or_goaway(h2_until_pong(c, b"pong0002"), 1)
    c.send(h2raw.headers(3, h2raw.request_block("/echo?after")))
    end, seen = c.frames_until(lambda f: f[2] == 3 and f[0] == h2raw.DATA and
                               f[1] & h2raw.END_STREAM, timeout=5)
    c.close()
    assert end is not None, seen
    assert json.loads(h2_answer_body(seen, 3))["connection"]["request_index"] == 2


def test_http2_a_stream_whose_end_stream_never_comes_is_reset_after_client_body(factory,
                                                                               backend):
    """The response went out whole, the client's END_STREAM does not come: the stream is not
    held forever, it gets RST_STREAM(NO_ERROR) after client_body, and the connection goes on."""
    gh = factory.gatehouse(streaming_config(factory, backend, timeouts={"client_body": "1s"}))
    if not h2c_supported(gh):
        pytest.skip("no h2c")
    c = h2raw.Conn(gh.hostport)
    h2_post(c, 1, "/echo?noend", extra=(("content-length", "5"),))
    c.send(h2raw.frame(h2raw.DATA, 0, 1, b"hello"))
    end, seen = c.frames_until(lambda f: f[2] == 1 and f[0] == h2raw.DATA and
                               f[1] & h2raw.END_STREAM, timeout=5)
    assert end is not None, seen[-5:]
    answered = time.monotonic()
    assert json.loads(h2_answer_body(seen, 1))["body_length"] == 5
    rst, seen = c.frames_until(lambda f: f[2] == 1 and f[0] == h2raw.RST_STREAM, timeout=6)
    assert rst is not None, seen[-5:]
    assert int.from_bytes(rst[3], "big") == 0  # NO_ERROR: the response was complete
    assert 0.9 < time.monotonic() - answered < 4
    c.send(h2raw.headers(3, h2raw.request_block("/echo?next")))
    end, seen = c.frames_until(lambda f: f[2] == 3 and f[0] == h2raw.DATA and
                               f[1] & h2raw.END_STREAM, timeout=5)
    c.close()
    assert end is not None and json.loads(h2_answer_body(seen, 3))["target"] == "/echo?next"
