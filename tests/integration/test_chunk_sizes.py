# SPDX-License-Identifier: MIT
"""Chunk sizes of a request body: a chunk that cannot fit max_request_body gets its 413 at once,
at its size line (the connection then closes); leading zeros do not make a size too long."""
import time

import pytest

from ghtest import Raw, is_error_response


@pytest.fixture(params=["buffered", "streamed"])
def limited(request, factory):
    backend = factory.backend()
    over = {"workers": 1, "limits": {"max_request_body": "1MiB"}}
    if request.param == "streamed":
        over["rules"] = [{"name": "push", "pool": "app", "buffering": Raw("off")}]
    gh = factory.gatehouse(factory.config([backend.address], **over))
    gh.backend = backend
    return gh


HEAD = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


# 4 GiB, 2^64-19, 1 MiB + 1 behind leading zeros, and past 64 bits (once a 400: now over the limit).
@pytest.mark.parametrize("size", [b"100000000", b"ffffffffffffffed", b"0000100001",
                                  b"10000000000000005"])
def test_a_chunk_over_max_request_body_gets_413_at_its_size_line(limited, size):
    c = limited.connect()
    t0 = time.monotonic()
    c.send(HEAD + size + b"\r\n")  # ... and its data never comes
    r = c.response()
    elapsed = time.monotonic() - t0
    is_error_response(r, 413)
    assert elapsed < 1, elapsed
    assert "close" in r.tokens("connection")
    assert c.closed_within(3)
    # The body so far counts: 1 MiB - 1 in a first chunk, then 2 bytes.
    c = limited.connect()
    c.send(HEAD + b"fffff\r\n" + b"k" * 0xfffff + b"\r\n2\r\n")
    is_error_response(c.response(), 413)
    c.close()


def test_leading_zeros_do_not_count_against_the_size(limited):
    c = limited.connect()
    c.send(HEAD + b"0000000000000000000005\r\nhello\r\n" + b"0" * 40 + b"\r\n\r\n")
    r = c.response()
    c.close()
    assert r.status == 200, r
    assert r.json()["body_length"] == 5
