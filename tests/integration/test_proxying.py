# SPDX-License-Identifier: MIT
"""Requests and bodies go through unchanged: methods, bodies, keep-alive, pipelining, HTTP/1.0."""
import hashlib
import json
import os
import socket
import time

from ghtest import (build, chunked, curl, header_values, request, backend_mod)


def test_get_is_proxied_with_its_query_string_unchanged(stack):
    r = request(stack.gh, target="/echo?a=1&b=%2F&c&d=%7E+x")
    assert r.status == 200 and r.complete
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["target"] == "/echo?a=1&b=%2F&c&d=%7E+x"
    assert echo["version"] == "HTTP/1.1"


def test_curl_gets_the_demo_page(stack):
    out = curl(stack.gh.url("/"))
    assert out.returncode == 0, out.stderr
    assert b"gatehouse demo backend" in out.stdout


def test_head_has_no_body_and_the_connection_goes_on(stack):
    c = stack.gh.connect()
    for target in ("/bytes/1000", "/bytes/1000?chunked=1", "/echo"):
        c.send(build("HEAD", target))
        r = c.response(method="HEAD")
        assert r.status == 200 and r.body == b""
        if target == "/bytes/1000":
            assert r.header("content-length") == "1000"
    # A body that HEAD did not have would be read as this response's head.
    c.send(build("GET", "/bytes/10"))
    r = c.response()
    assert r.status == 200 and r.body == backend_mod.pattern_bytes(10)
    c.close()


def test_post_with_content_length_reaches_backend_whole(stack):
    body = os.urandom(100000)
    r = request(stack.gh, "POST", "/echo", headers=[("Content-Type", "application/octet-stream")],
                body=body)
    assert r.status == 200
    echo = r.json()
    assert echo["method"] == "POST"
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert header_values(echo, "content-length") == [str(len(body))]


def test_chunked_request_body_is_sent_to_backend_with_content_length(stack):
    body = os.urandom(300000)
    wire = chunked(body).replace(b"3e8\r\n", b"3e8;name=value\r\n", 1)  # a chunk extension
    wire = wire[:-2] + b"X-Trailer: t\r\n\r\n"  # and a trailer
    c = stack.gh.connect()
    c.send(b"PUT /echo HTTP/1.1\r\nHost: test.example\r\nTransfer-Encoding: chunked\r\n\r\n" + wire)
    r = c.response()
    c.close()
    assert r.status == 200
    echo = r.json()
    assert echo["method"] == "PUT"
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert not echo["body_chunked"]
    assert header_values(echo, "content-length") == [str(len(body))]
    assert header_values(echo, "transfer-encoding") == []


def test_empty_chunked_request_body(stack):
    c = stack.gh.connect()
    r = c.exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    c.close()
    assert r.status == 200
    echo = r.json()
    assert echo["body_length"] == 0 and not echo["body_chunked"]


def test_expect_100_continue_is_answered_before_the_body_is_sent(stack):
    body = b"x" * 5000
    c = stack.gh.connect()
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body))
    version, status, _, _, _ = c.head()  # nothing of the body sent yet
    assert status == 100, "expected an interim 100 Continue, got %d" % status
    assert version == "HTTP/1.1"
    c.send(body)
    r = c.response()
    c.close()
    assert r.status == 200
    assert r.json()["body_length"] == len(body)


def test_20mib_upload_with_curl(stack, tmp_path):
    data = os.urandom(20 << 20)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    out = curl("--data-binary", "@%s" % src, "-H", "Content-Type: application/octet-stream",
               stack.gh.url("/echo"))
    assert out.returncode == 0, out.stderr
    echo = json.loads(out.stdout)
    assert echo["body_length"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_20mib_download_with_curl_content_length_and_chunked(stack):
    n = 20 << 20
    want = backend_mod.pattern_sha256(n)
    for q in ("", "?chunked=1&chunk=100000"):
        out = curl(stack.gh.url("/bytes/%d%s" % (n, q)))
        assert out.returncode == 0, out.stderr
        assert len(out.stdout) == n
        assert hashlib.sha256(out.stdout).hexdigest() == want


def test_256mib_generated_response_streams_through_intact(stack):
    n = 256 << 20
    c = stack.gh.connect()
    c.send(build("GET", "/bytes/%d?chunk=1048576" % n, close=True))
    r = c.response(keep_body=False)
    c.close()
    assert r.status == 200 and r.complete
    assert r.length == n
    assert r.sha256 == backend_mod.pattern_sha256(n)


def test_small_chunks_and_slow_pieces_arrive_intact(stack):
    r = request(stack.gh, target="/bytes/20000?chunked=1&chunk=7")
    assert r.status == 200 and r.body == backend_mod.pattern_bytes(20000)
    r = request(stack.gh, target="/bytes/5000?chunk=1000&pause=0.05")
    assert r.status == 200 and r.body == backend_mod.pattern_bytes(5000)


def test_a_head_waits_for_its_body_only_briefly(stack):
    # A small response's head is held for its body so both leave in one segment, but a backend
    # that pauses between them does not hold the head back for long (the kernel's 200 ms).
    s = socket.create_connection(stack.gh.hostport, timeout=5)
    t0 = time.monotonic()
    s.sendall(build("GET", "/bytes/1000?head_pause=1.5", close=True))
    got, head_at = b"", None
    while True:
        data = s.recv(65536)
        if not data:
            break
        got += data
        if head_at is None and b"\r\n\r\n" in got:
            head_at = time.monotonic() - t0
    body_at = time.monotonic() - t0
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == backend_mod.pattern_bytes(1000)
    assert head_at < 0.8, "the head came %.2fs after the request" % head_at
    assert body_at >= 1.4


def test_close_delimited_backend_response_is_relayed_whole(stack):
    # Several sizes and tries: the backend's close may come with the last bytes or after them.
    for n in (10, 100000, 100000, 100000, 1000000, 1000000):
        t0 = time.monotonic()
        r = request(stack.gh, target="/bytes/%d?close=1" % n)
        assert r.status == 200 and r.complete, (n, r)
        assert r.body == backend_mod.pattern_bytes(n)
        assert time.monotonic() - t0 < 2, "%d-byte close-delimited response took %.1fs" % (
            n, time.monotonic() - t0)


def test_204_and_304_have_no_body_and_keep_alive_goes_on(stack):
    c = stack.gh.connect()
    for status in (204, 304):
        r = c.exchange(build("GET", "/status/%d" % status))
        assert r.status == status and r.body == b""
    r = c.exchange(build("GET", "/bytes/3"))
    assert r.status == 200 and r.body == backend_mod.pattern_bytes(3)
    c.close()


def test_keep_alive_reuses_one_backend_connection(proxy, backend):
    c = proxy.connect()
    ids = []
    for i in range(5):
        r = c.exchange(build("GET", "/echo?i=%d" % i))
        assert r.status == 200
        ids.append(r.json()["connection"]["id"])
    c.close()
    for i in range(3):  # new client connections, same backend connection from the pool
        ids.append(request(proxy, target="/echo?j=%d" % i).json()["connection"]["id"])
    assert len(set(ids)) == 1, ids
    assert backend.stats()["connections"] == 1


def test_backend_writing_head_and_body_apart_is_still_reused(proxy, backend):
    # The last piece comes after a pause, alone: reading it ends exactly at the body's length.
    for i in range(4):
        r = request(proxy, target="/bytes/1000?chunk=500&pause=0.05&i=%d" % i)
        assert r.status == 200 and r.body == backend_mod.pattern_bytes(1000)
    assert backend.stats()["connections"] == 1


def test_200_pipelined_requests_are_answered_in_order(stack):
    reqs = []
    for i in range(200):
        if i % 10 == 3:
            reqs.append(build("POST", "/echo?i=%d" % i, body=b"b" * i))
        else:
            reqs.append(build("GET", "/echo?i=%d" % i))
    c = stack.gh.connect()
    c.send(b"".join(reqs))
    for i in range(200):
        r = c.response()
        assert r.status == 200, (i, r)
        echo = r.json()
        assert echo["query"] == "i=%d" % i
        assert echo["body_length"] == (i if i % 10 == 3 else 0)
    c.close()


def test_http10_client_without_keep_alive_gets_a_closed_connection(stack):
    c = stack.gh.connect()
    c.send(b"GET /echo HTTP/1.0\r\n\r\n")  # no Host: fine in HTTP/1.0
    r = c.response()
    assert r.status == 200 and r.complete
    assert r.json()["method"] == "GET"
    assert "chunked" not in r.tokens("transfer-encoding")
    assert c.closed_within(2)


def test_http10_client_gets_no_chunked_coding(stack):
    c = stack.gh.connect()
    c.send(b"GET /bytes/70000?chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n")
    r = c.response()
    assert r.status == 200 and r.complete
    assert "chunked" not in r.tokens("transfer-encoding")
    assert r.body == backend_mod.pattern_bytes(70000)
    c.close()


def test_http10_client_with_keep_alive(stack):
    c = stack.gh.connect()
    for i in range(3):
        c.send(b"GET /echo?n=%d HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n" % i)
        r = c.response()
        assert r.status == 200
        assert r.has("content-length")
        assert "keep-alive" in r.tokens("connection")
        assert r.json()["query"] == "n=%d" % i
    c.close()


def test_connection_close_from_client_is_honoured(stack):
    c = stack.gh.connect()
    c.send(build("GET", "/echo", close=True))
    r = c.response()
    assert r.status == 200
    assert "close" in r.tokens("connection")
    assert c.closed_within(2)


def test_absolute_form_target_reaches_backend_in_origin_form(stack):
    c = stack.gh.connect()
    r = c.exchange(b"GET http://test.example/echo?q=1 HTTP/1.1\r\nHost: test.example\r\n\r\n")
    c.close()
    assert r.status == 200
    assert r.json()["target"] == "/echo?q=1"
