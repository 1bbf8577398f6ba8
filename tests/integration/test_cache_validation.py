# SPDX-License-Identifier: MIT
"""Revalidation (304 updates the stored head), stale-while-revalidate, stale-if-error."""
import time

import ghtest
from cacheutil import Answer, cache_stack, get


def test_a_stale_object_is_revalidated_and_a_304_refreshes_it(factory):
    origin, gh = cache_stack(factory)
    origin.set("/etag", headers=[("Cache-Control", "max-age=0"), ("ETag", '"v1"'),
                                 ("X-Version", "1")], body=b"body")
    assert get(gh, "/etag").header("x-cache") == "MISS"
    origin.set("/etag", lambda m, t, f: Answer(
        status=304, reason="Not Modified",
        headers=[("ETag", '"v1"'), ("Cache-Control", "max-age=60"), ("X-Version", "2")])
        if f.get("if-none-match") == '"v1"' else Answer(body=b"unconditional"))
    r = get(gh, "/etag")
    assert r.status == 200 and r.body == b"body"
    assert r.header("x-cache") == "REVALIDATED"
    assert r.header("x-version") == "2"
    assert origin.last("/etag")[2].get("if-none-match") == '"v1"'
    r = get(gh, "/etag")
    assert r.header("x-cache") == "HIT" and r.header("x-version") == "2"
    assert origin.count("/etag") == 2


def test_a_request_max_age_0_revalidates(factory):
    origin, gh = cache_stack(factory)
    origin.set("/m", headers=[("Cache-Control", "max-age=60"), ("ETag", '"a"')])
    get(gh, "/m")
    get(gh, "/m", headers=[("Cache-Control", "max-age=0")])
    assert origin.count("/m") == 2


def test_stale_while_revalidate_serves_stale_and_refreshes_once(factory):
    origin, gh = cache_stack(factory)
    origin.set("/swr", headers=[("Cache-Control", "max-age=1, stale-while-revalidate=60")],
               body=b"old")
    get(gh, "/swr")
    time.sleep(2.1)
    origin.set("/swr", Answer(headers=[("Cache-Control", "max-age=60")], body=b"new", delay=0.3))
    r1 = get(gh, "/swr")
    r2 = get(gh, "/swr")
    assert r1.body == b"old" and r1.header("x-cache") == "STALE"
    assert r2.body == b"old"
    assert ghtest.wait_for(lambda: get(gh, "/swr").body == b"new", timeout=5)
    assert origin.count("/swr") == 2


def test_stale_if_error_on_a_backend_5xx(factory):
    origin, gh = cache_stack(factory)
    origin.set("/sie", headers=[("Cache-Control", "max-age=1, stale-if-error=60")], body=b"good")
    get(gh, "/sie")
    time.sleep(2.1)
    origin.set("/sie", status=500, reason="Oops", body=b"bad")
    r = get(gh, "/sie")
    assert r.status == 200 and r.body == b"good"
    assert r.header("x-cache") == "STALE"


def test_stale_if_error_on_a_dead_backend(factory):
    origin, gh = cache_stack(factory)
    origin.set("/dead", headers=[("Cache-Control", "max-age=1, stale-if-error=60")], body=b"good")
    get(gh, "/dead")
    time.sleep(2.1)
    origin.stop()
    r = get(gh, "/dead")
    assert r.status == 200 and r.body == b"good"
    assert r.header("x-cache") == "STALE"
