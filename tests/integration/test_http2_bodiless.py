# SPDX-License-Identifier: MIT
"""204 and 304 over HTTP/2: never a body (END_STREAM on the HEADERS frame, no DATA), and a 204
never carries content-length (RFC 9110 8.6, RFC 9113 8.1.1), whatever the backend's head says."""

import pytest

import h2raw
from ghtest import RawBackend, curl
from h2raw import DATA, END_STREAM, HEADERS

ANSWERS = {
    "/204": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\n",
    "/204-body": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    "/304": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n",
    "/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}


@pytest.fixture
def gh(factory):
    b = RawBackend(ANSWERS)
    yield factory.gatehouse(factory.config([b.address], workers=1))
    b.close()


@pytest.mark.parametrize("path", ["/204", "/204-body"])
def test_curl_gets_a_204_without_content_length_over_h2c(gh, path):
    out = curl("--http2-prior-knowledge", "-D", "-", gh.url(path), timeout=10)
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 204"), head
    assert b"content-length" not in head.lower(), head
    assert b"x-kept: yes" in head.lower() or path != "/204", head
    assert body == b""


@pytest.mark.parametrize("path,status", [("/204", b"204"), ("/204-body", b"204"),
                                         ("/304", b"304")])
def test_204_and_304_end_on_their_headers_frame(gh, path, status):
    c = h2raw.Conn(gh.hostport)
    try:
        c.send(h2raw.headers(1, h2raw.request_block(path)) +
               h2raw.headers(3, h2raw.request_block("/ok")))
        frames = []

        def ended(stream):
            return any(f[2] == stream and f[1] & END_STREAM and f[0] in (HEADERS, DATA)
                       for f in frames)
        # Both streams to their end (their backends answer in either order), and a moment more
        # for a stray DATA frame to follow stream 1's end, should one come.
        while not (ended(1) and ended(3)):
            f = c.read_frame(10)
            assert f is not None, frames
            frames.append(f)
        while (f := c.read_frame(0.2)) is not None:
            frames.append(f)
        mine = [f for f in frames if f[2] == 1]
        assert [f[0] for f in mine] == [HEADERS], mine  # no DATA, not even an empty one
        assert mine[0][1] & END_STREAM  # the fields themselves are checked through curl above
    finally:
        c.close()


def test_curl_gets_a_304_with_its_content_length_and_no_body_over_h2c(gh):
    out = curl("--http2-prior-knowledge", "-D", "-", gh.url("/304"), timeout=10)
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 304"), head
    assert body == b""
