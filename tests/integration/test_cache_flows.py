# SPDX-License-Identifier: MIT
"""The cache's request/response flows around revalidation: a 304 keeps the backend connection,
concurrent revalidations of one stale object make one backend request, a HEAD updates the
stored GET response (RFC 9111 4.3.5), a request's no-store is honoured (5.2.1.5)."""
import threading

import cacheutil
import ghtest
from cacheutil import Answer, cache_stack, get


def _many(gh, target, n, method="GET"):
    results = [None] * n

    def one(i):
        try:
            results[i] = get(gh, target, method=method)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _not_modified(etag, delay=0, extra=()):
    """An answer that is a 304 to a request with If-None-Match |etag|, else a 200 'changed'."""
    def answer(method, target, fields):
        if fields.get("if-none-match") == etag:
            return Answer(status=304, reason="Not Modified", delay=delay,
                          headers=[("ETag", etag), ("Cache-Control", "max-age=0")] + list(extra))
        return Answer(headers=[("ETag", '"other"')], body=b"changed")
    return answer


def test_a_304_revalidation_returns_the_backend_connection_to_the_pool(factory):
    origin, gh = cache_stack(factory)
    origin.set("/r", headers=[("Cache-Control", "max-age=0"), ("ETag", '"v1"')], body=b"body")
    assert get(gh, "/r").header("x-cache") == "MISS"
    origin.set("/r", _not_modified('"v1"'))
    for _ in range(3):
        r = get(gh, "/r")
        assert r.status == 200 and r.body == b"body"
        assert r.header("x-cache") == "REVALIDATED"
    assert origin.count("/r") == 4
    assert len(origin.conns) == 1  # every revalidation reused the first connection


def test_concurrent_revalidations_of_a_stale_object_make_one_backend_request(factory):
    origin, gh = cache_stack(factory)
    origin.set("/s", headers=[("Cache-Control", "max-age=0"), ("ETag", '"v1"')], body=b"old")
    get(gh, "/s")
    origin.set("/s", _not_modified('"v1"', delay=0.5, extra=[("X-Checked", "yes")]))
    results = _many(gh, "/s", 20)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"old"
        assert r.header("x-checked") == "yes"  # the 304's fields, for the waiters too
    assert origin.count("/s") == 2
    assert origin.last("/s")[2].get("if-none-match") == '"v1"'


def test_waiters_on_a_revalidation_that_brings_a_new_response_get_the_new_one(factory):
    origin, gh = cache_stack(factory)
    origin.set("/n", headers=[("Cache-Control", "max-age=0"), ("ETag", '"v1"')], body=b"old")
    get(gh, "/n")
    origin.set("/n", Answer(headers=[("Cache-Control", "max-age=60"), ("ETag", '"v2"')],
                            body=b"new", delay=0.5))
    results = _many(gh, "/n", 10)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"new"
    assert origin.count("/n") == 2
    assert get(gh, "/n").header("x-cache") == "HIT"


def test_a_backend_error_during_a_coalesced_revalidation_serves_every_waiter_stale(factory):
    origin, gh = cache_stack(factory)
    origin.set("/e", headers=[("Cache-Control", "max-age=0, stale-if-error=60"),
                              ("ETag", '"v1"')], body=b"good")
    get(gh, "/e")
    origin.set("/e", Answer(status=503, reason="Busy", body=b"bad", delay=0.5))
    results = _many(gh, "/e", 10)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"good"
        assert r.header("x-cache") == "STALE"
    assert origin.count("/e") == 2


def test_a_head_200_updates_the_stored_response_it_describes(factory):
    origin, gh = cache_stack(factory)
    lm = ("Last-Modified", "Wed, 01 Jan 2020 00:00:00 GMT")
    origin.set("/h", headers=[("Cache-Control", "max-age=0"), lm, ("X-Version", "1")],
               body=b"body")
    get(gh, "/h")
    origin.set("/h", headers=[("Cache-Control", "max-age=600"), lm, ("X-Version", "2")],
               body=b"body")
    r = get(gh, "/h", method="HEAD")
    assert r.status == 200 and r.header("x-version") == "2"
    assert origin.last("/h")[0] == "HEAD"  # written through as a HEAD: no body transferred
    r = get(gh, "/h")
    assert r.header("x-cache") == "HIT"
    assert r.header("x-version") == "2" and r.body == b"body"
    assert origin.count("/h") == 2


def test_a_head_200_for_another_representation_makes_the_stored_response_stale(factory):
    origin, gh = cache_stack(factory)
    origin.set("/hv", headers=[("Cache-Control", "max-age=0"), ("ETag", '"v1"')], body=b"old")
    get(gh, "/hv")
    origin.set("/hv", headers=[("Cache-Control", "max-age=600"), ("ETag", '"v2"')], body=b"new")
    r = get(gh, "/hv", method="HEAD")
    assert r.status == 200 and r.header("etag") == '"v2"'
    r = get(gh, "/hv")
    assert r.body == b"new"  # not the stored "old", fresh for 600 s as the HEAD said
    assert origin.count("/hv") == 3


def test_a_request_with_no_store_has_its_response_not_stored(factory):
    origin, gh = cache_stack(factory)
    origin.set("/ns", headers=[("Cache-Control", "max-age=600")], body=b"x")
    r = get(gh, "/ns", headers=[("Cache-Control", "no-store")])
    assert r.status == 200 and r.body == b"x"
    assert get(gh, "/ns").header("x-cache") == "MISS"
    assert get(gh, "/ns").header("x-cache") == "HIT"
    assert origin.count("/ns") == 2


def test_a_cold_head_is_fetched_as_a_get_that_fills_the_cache(factory):
    origin, gh = cache_stack(factory)
    origin.set("/ch", headers=[("Cache-Control", "max-age=600")], body=b"0123456789")
    r = get(gh, "/ch", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.header("content-length") == "10"
    assert origin.last("/ch")[0] == "GET"
    r = get(gh, "/ch")
    assert r.header("x-cache") == "HIT" and r.body == b"0123456789"
    assert origin.count("/ch") == 1


def test_a_cold_range_request_fills_the_whole_object_and_gets_its_range(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cr", headers=[("Cache-Control", "max-age=600")], body=b"0123456789")
    r = get(gh, "/cr", headers=[("Range", "bytes=2-5")])
    assert r.status == 206 and r.body == b"2345"
    assert r.header("content-range") == "bytes 2-5/10"
    assert "range" not in origin.last("/cr")[2]
    r = get(gh, "/cr")
    assert r.header("x-cache") == "HIT" and r.body == b"0123456789"
    assert origin.count("/cr") == 1


def test_a_range_of_a_large_cold_object_is_served_while_the_rest_still_streams_in(factory):
    origin, gh = cache_stack(factory)
    size = 4 << 20
    hold = threading.Event()
    origin.set("/big", Answer(headers=[("Cache-Control", "max-age=600")], size=size, hold=hold,
                              hold_after=1 << 20))
    try:
        r = get(gh, "/big", headers=[("Range", "bytes=1000-1999")])
        assert r.status == 206 and r.header("content-range") == "bytes 1000-1999/%d" % size
        assert r.body == cacheutil.generated(2000)[1000:]
        assert not hold.is_set()  # answered while the backend still held the rest
    finally:
        hold.set()
    assert ghtest.wait_for(lambda: get(gh, "/big", headers=[("Range", "bytes=-10")]).header(
        "x-cache") == "HIT", timeout=20)
    assert origin.count("/big") == 1


def test_a_cold_conditional_request_is_fetched_whole_and_answered_304(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cc", headers=[("Cache-Control", "max-age=600"), ("ETag", '"t1"')], body=b"b")
    r = get(gh, "/cc", headers=[("If-None-Match", '"t1"')])
    assert r.status == 304 and r.header("etag") == '"t1"'
    assert "if-none-match" not in origin.last("/cc")[2]
    assert get(gh, "/cc").header("x-cache") == "HIT"
    assert origin.count("/cc") == 1


def test_a_cold_head_for_an_uncacheable_url_gets_the_backends_own_answer(factory):
    origin, gh = cache_stack(factory)
    origin.set("/uh", headers=[("Cache-Control", "no-store"), ("X-Kind", "private")],
               body=b"secret")
    r = get(gh, "/uh", method="HEAD")
    assert r.status == 200 and r.body == b"" and r.header("x-kind") == "private"
    assert [m for m, t, _ in origin.requests] == ["GET", "HEAD"]
    r = get(gh, "/uh", method="HEAD")  # remembered as uncacheable: straight to the backend
    assert r.status == 200
    assert origin.count("/uh") == 3


PUBLIC = [("Cache-Control", "max-age=600")]


def test_rfc9111_4_4_unsafe_methods_invalidate_only_on_a_non_error_response(factory):
    origin, gh = cache_stack(factory)
    origin.set("/u", headers=PUBLIC)
    get(gh, "/u")
    for method in ("PUT", "DELETE", "M-SEARCH"):
        origin.set("/u", status=500, reason="Oops", body=b"no")
        get(gh, "/u", method=method)
        origin.set("/u", headers=PUBLIC)
        assert get(gh, "/u").header("x-cache") == "HIT", method  # a 5xx changed nothing
        origin.set("/u", status=204, reason="No Content", body=b"")
        get(gh, "/u", method=method)
        origin.set("/u", headers=PUBLIC)
        assert get(gh, "/u").header("x-cache") == "MISS", method
        assert get(gh, "/u").header("x-cache") == "HIT", method


def test_rfc9111_4_4_location_and_content_location_are_invalidated_on_the_same_host_only(
        factory):
    origin, gh = cache_stack(factory)
    for path in ("/loc", "/cloc", "/other"):
        origin.set(path, headers=PUBLIC)
        get(gh, path)
    origin.set("/form", status=303, reason="See Other", body=b"",
               headers=[("Location", "http://test.example/loc"), ("Content-Location", "/cloc")])
    get(gh, "/form", method="POST")
    assert get(gh, "/loc").header("x-cache") == "MISS"
    assert get(gh, "/cloc").header("x-cache") == "MISS"
    origin.set("/form", status=303, reason="See Other", body=b"",
               headers=[("Location", "http://elsewhere.example/other")])
    get(gh, "/form", method="POST")
    assert get(gh, "/other").header("x-cache") == "HIT"  # another host's URL is not ours to drop


def test_an_empty_200_ends_with_its_head_is_stored_and_frees_the_connection(factory):
    origin, gh = cache_stack(factory)
    origin.set("/empty", headers=PUBLIC, body=b"")
    r = get(gh, "/empty")
    assert r.status == 200 and r.body == b""
    assert get(gh, "/empty").header("x-cache") == "HIT"
    origin.set("/next", headers=[("Cache-Control", "no-store")], body=b"n")
    assert get(gh, "/next").body == b"n"
    assert len(origin.conns) == 1  # the empty response did not hold its connection
    assert origin.count() == 2
