# SPDX-License-Identifier: MIT
"""Responses that never have a body (RFC 9112 6.3): 204 and 304, whatever their fields say. A 204
reaches the client without Content-Length or Transfer-Encoding (RFC 9110 8.6); a 304 keeps its
Content-Length (the selected representation's); the backend's stray bytes never reach a client."""

import pytest

from ghtest import RawBackend, build, curl


ANSWERS = {
    "/204": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\nhello",
    "/204-chunked": b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "/204-zero": b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    "/304": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n",
    "/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}


@pytest.fixture
def raw_backend():
    b = RawBackend(ANSWERS)
    yield b
    b.close()


@pytest.fixture
def gh(factory, raw_backend):
    return factory.gatehouse(factory.config([raw_backend.address], workers=1))


@pytest.mark.parametrize("path", ["/204", "/204-chunked"])
def test_a_204_that_announces_a_body_reaches_the_client_without_one(gh, raw_backend, path):
    c = gh.connect()
    r = c.exchange(build("GET", path))
    assert r.status == 204
    assert not r.has("content-length") and not r.has("transfer-encoding"), r.raw_head
    assert r.header("x-kept") in (None, "yes")
    assert r.body == b""
    # The stray body is not taken for the next response: the same client connection goes on,
    # and the backend connection that carried it is not used again.
    r2 = c.exchange(build("GET", "/ok"))
    assert r2.status == 200 and r2.body == b"ok"
    c.close()
    conns = [conn for conn, _ in raw_backend.requests]
    assert len(set(conns)) == 2, raw_backend.requests


def test_a_204_with_content_length_0_is_clean_and_its_connection_reused(gh, raw_backend):
    c = gh.connect()
    r = c.exchange(build("GET", "/204-zero"))
    assert r.status == 204 and not r.has("content-length")
    r2 = c.exchange(build("GET", "/ok"))
    assert r2.status == 200 and r2.body == b"ok"
    c.close()
    assert len({conn for conn, _ in raw_backend.requests}) == 1, raw_backend.requests


def test_a_304_keeps_its_content_length_and_has_no_body(gh, raw_backend):
    c = gh.connect()
    c.send(build("GET", "/304"))
    # No body follows, whatever Content-Length says: the next response comes right after.
    c.send(build("GET", "/ok"))
    r = c.response()
    assert r.status == 304
    assert r.header("content-length") == "5"
    assert r.body == b""
    r2 = c.response()
    assert r2.status == 200 and r2.body == b"ok"
    c.close()


@pytest.mark.parametrize("path", ["/204", "/204-zero", "/304"])
def test_over_http2_a_bodiless_response_is_clean_for_curl(gh, path):
    """curl failed a 204 carrying Content-Length: 5 with PROTOCOL_ERROR (RFC 9113 8.1.1)."""
    r = curl("-i", "--http2-prior-knowledge", gh.url(path))
    assert r.returncode == 0, r.stderr
    head = r.stdout.decode("latin-1").lower()
    assert head.startswith("http/2 %s" % path[1:4]), head
    if path.startswith("/204"):
        assert "content-length" not in head, head
    else:
        assert "content-length: 5" in head, head
