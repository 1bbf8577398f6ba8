# SPDX-License-Identifier: MIT
"""Malformed or oversized requests are refused before any byte reaches a backend (RFC 9112),
and the request target is normalized once."""
import time

import pytest

from ghtest import build, is_error_response, request

H = b"Host: x\r\n"

MALFORMED = {
    # framing: Content-Length and Transfer-Encoding
    "cl-with-te": b"POST /echo HTTP/1.1\r\n" + H +
                  b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-with-cl": b"POST /echo HTTP/1.1\r\n" + H +
                  b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "two-different-cl": b"POST /echo HTTP/1.1\r\n" + H +
                        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "two-equal-cl": b"POST /echo HTTP/1.1\r\n" + H +
                    b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl-list": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-plus": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello",
    "cl-negative": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "cl-hex": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello",
    "cl-trailing-junk": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5x\r\n\r\nhello",
    "cl-inner-space": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 1 5\r\n\r\nhello",
    "cl-empty": b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\n",
    "cl-overflow": b"POST /echo HTTP/1.1\r\n" + H +
                   b"Content-Length: 99999999999999999999999999\r\n\r\n",
    "te-gzip": b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\nhello",
    "te-identity": b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n",
    "te-chunked-not-last": b"POST /echo HTTP/1.1\r\n" + H +
                           b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te-chunked-twice": b"POST /echo HTTP/1.1\r\n" + H +
                        b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "te-xchunked": b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    # field syntax
    "space-before-colon": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo : bar\r\n\r\n",
    "tab-before-colon": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo\t: bar\r\n\r\n",
    "space-in-name": b"GET /echo HTTP/1.1\r\n" + H + b"X Foo: bar\r\n\r\n",
    "empty-name": b"GET /echo HTTP/1.1\r\n" + H + b": bar\r\n\r\n",
    "no-colon": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo bar\r\n\r\n",
    "obs-fold-space": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\r\n b\r\n\r\n",
    "obs-fold-tab": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\r\n\tb\r\n\r\n",
    "whitespace-before-first-field": b"GET /echo HTTP/1.1\r\n Host: x\r\n\r\n",
    "bare-cr-in-value": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\rb\r\n\r\n",
    "bare-cr-line-end": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\r\r\n\r\n",
    "nul-in-value": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\x00b\r\n\r\n",
    "nul-in-name": b"GET /echo HTTP/1.1\r\n" + H + b"X-F\x00oo: a\r\n\r\n",
    "ctl-0x01-in-value": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\x01b\r\n\r\n",
    "ctl-0x1f-in-value": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\x1fb\r\n\r\n",
    "del-in-value": b"GET /echo HTTP/1.1\r\n" + H + b"X-Foo: a\x7fb\r\n\r\n",
    # chunked bodies
    "chunk-size-not-hex": b"POST /echo HTTP/1.1\r\n" + H +
                          b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": b"POST /echo HTTP/1.1\r\n" + H +
                           b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-0x": b"POST /echo HTTP/1.1\r\n" + H +
                     b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-empty": b"POST /echo HTTP/1.1\r\n" + H +
                        b"Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
    "chunk-data-overrun": b"POST /echo HTTP/1.1\r\n" + H +
                          b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
    # Host
    "missing-host": b"GET /echo HTTP/1.1\r\nX-Foo: a\r\n\r\n",
    "two-hosts": b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "host-with-space": b"GET /echo HTTP/1.1\r\nHost: a b\r\n\r\n",
    # request line
    "request-line-extra-token": b"GET /echo HTTP/1.1 x\r\n" + H + b"\r\n",
    "request-line-double-space": b"GET  /echo HTTP/1.1\r\n" + H + b"\r\n",
    "request-line-http09": b"GET /echo\r\n\r\n",
    "method-bad-char": b"GE(T /echo HTTP/1.1\r\n" + H + b"\r\n",
    "version-lowercase": b"GET /echo http/1.1\r\n" + H + b"\r\n",
    "ctl-in-target": b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n",
    "space-in-target": b"GET /a b HTTP/1.1\r\n" + H + b"\r\n",
    "target-not-origin-form": b"GET echo HTTP/1.1\r\n" + H + b"\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_request_gets_400_and_a_closed_connection(stack, name):
    before = stack.backend.stats()["requests"]
    c = stack.gh.connect()
    c.send(MALFORMED[name])
    r = c.response()
    assert r.status == 400, r
    assert r.body, "400 without a body"
    assert "close" in r.tokens("connection"), r
    assert c.closed_within(3), "connection left open after a 400"
    c.close()
    assert stack.backend.stats()["requests"] == before, "a malformed request reached the backend"


def test_malformed_request_after_a_good_one_on_the_same_connection(stack):
    c = stack.gh.connect()
    c.send(build("GET", "/echo?first") + MALFORMED["cl-with-te"])
    r = c.response()
    assert r.status == 200 and r.json()["query"] == "first"
    r = c.response()
    assert r.status == 400
    assert c.closed_within(3)


def test_too_long_target_gets_414(stack):
    c = stack.gh.connect()
    c.send(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    r = c.response()
    c.close()
    is_error_response(r, 414)


def test_http2_request_line_gets_505(stack):
    c = stack.gh.connect()
    c.send(b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n")
    r = c.response()
    c.close()
    is_error_response(r, 505)


@pytest.mark.parametrize("garbage", [
    b"INVALID CONNECTION PREFACE\r\n\r\n",             # h2spec 3.5 on an h2c listener
    b"\x16\x03\x01\x00\x05hello\r\n\r\n",              # not HTTP at all
], ids=["h2spec-invalid-preface", "binary"])
def test_bytes_that_name_no_http_version_get_no_answer_only_a_close(stack, garbage):
    """RFC 9113 3.4: an invalid connection preface is a connection error; on a listener that
    also speaks HTTP/1.1, bytes that name no HTTP version get no HTTP/1.1 400 to misread."""
    before = stack.backend.stats()["requests"]
    c = stack.gh.connect()
    c.send(garbage)
    deadline = time.monotonic() + 3
    got = b""
    c.sock.settimeout(3)
    while time.monotonic() < deadline:
        try:
            data = c.sock.recv(4096)
        except ConnectionResetError:
            break
        if not data:
            break
        got += data
    c.close()
    assert got == b"", got
    assert stack.backend.stats()["requests"] == before


@pytest.fixture
def small_limits(factory):
    class S:
        pass
    s = S()
    s.backend = factory.backend()
    s.gh = factory.gatehouse(factory.config(
        [s.backend.address], limits={"max_request_header": "2KiB", "max_request_body": "1KiB"}))
    return s


def test_headers_over_max_request_header_get_431(small_limits):
    ok = request(small_limits.gh, headers=[("X-Pad", "p" * 1000)])
    assert ok.status == 200
    many = [("X-Pad-%d" % i, "p" * 200) for i in range(20)]
    c = small_limits.gh.connect()
    c.send(build("GET", "/echo", headers=many))
    r = c.response()
    c.close()
    is_error_response(r, 431)
    c = small_limits.gh.connect()
    c.send(build("GET", "/echo", headers=[("X-Big", "b" * 3000)]))
    r = c.response()
    c.close()
    is_error_response(r, 431)


def test_body_over_max_request_body_gets_413(small_limits):
    gh = small_limits.gh
    assert request(gh, "POST", body=b"k" * 1024).json()["body_length"] == 1024
    is_error_response(request(gh, "POST", body=b"k" * 4096), 413)
    c = gh.connect()
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
           b"400\r\n" + b"k" * 1024 + b"\r\n" + b"400\r\n" + b"k" * 1024 + b"\r\n0\r\n\r\n")
    r = c.response()
    c.close()
    is_error_response(r, 413)
    assert small_limits.backend.stats()["requests"] == 1


def test_expect_100_continue_over_the_body_limit_gets_413_without_100(small_limits):
    c = small_limits.gh.connect()
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
    _, status, _, _, _ = c.head()
    c.close()
    assert status == 413


NORMALIZED = [
    ("/a/../b", "/b"),
    ("/a/./b/", "/a/b/"),
    ("/a/b/..", "/a/"),
    ("/a/b/../../c", "/c"),
    ("/a%2Fb", "/a%2Fb"),
    ("/%7Euser", "/~user"),
    ("/%7euser", "/~user"),
    ("/a%20b", "/a%20b"),
    ("/a/../b?x=/../y&z=%7E", "/b?x=/../y&z=%7E"),
]


@pytest.mark.parametrize("sent,seen", NORMALIZED)
def test_target_is_normalized_before_it_reaches_the_backend(stack, sent, seen):
    r = request(stack.gh, target=sent)
    assert r.status == 200
    assert r.json()["target"] == seen


@pytest.mark.parametrize("sent", ["/../x", "/a/../../x", "/..", "/a%zz", "/a%2"])
def test_target_escaping_the_root_or_badly_encoded_is_refused(stack, sent):
    before = stack.backend.stats()["requests"]
    r = request(stack.gh, target=sent)
    assert r.status == 400
    assert stack.backend.stats()["requests"] == before


def test_encoded_dot_segments_never_reach_the_backend_as_dots(stack):
    r = request(stack.gh, target="/a/%2E%2E/b")
    if r.status == 200:
        assert r.json()["target"] == "/b"
    else:
        assert r.status == 400
