# SPDX-License-Identifier: MIT
"""The cache in front of a counting origin: hits, misses, Age, the status header, HEAD, Range,
conditional requests, Vary, the targeted field and max_object_size."""
import time

from cacheutil import Answer, cache_stack, get

PUBLIC = [("Cache-Control", "public, max-age=60")]


def test_a_hit_after_a_miss_does_not_reach_the_backend(factory):
    origin, gh = cache_stack(factory)
    origin.set("/a", headers=PUBLIC, body=b"first")
    r1 = get(gh, "/a")
    assert r1.status == 200 and r1.body == b"first"
    assert r1.header("x-cache") == "MISS"
    r2 = get(gh, "/a")
    assert r2.status == 200 and r2.body == b"first"
    assert r2.header("x-cache") == "HIT"
    assert r2.header("age") is not None
    assert origin.count("/a") == 1


def test_a_hit_carries_age_from_the_backend_age(factory):
    origin, gh = cache_stack(factory)
    origin.set("/aged", headers=PUBLIC + [("Age", "30")])
    get(gh, "/aged")
    r = get(gh, "/aged")
    assert r.header("x-cache") == "HIT"
    assert int(r.header("age")) >= 30


def test_head_is_answered_from_a_stored_get(factory):
    origin, gh = cache_stack(factory)
    origin.set("/h", headers=PUBLIC, body=b"0123456789")
    get(gh, "/h")
    r = get(gh, "/h", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.header("content-length") == "10"
    assert r.header("x-cache") == "HIT"
    assert origin.count("/h") == 1


def test_range_gets_206_from_a_stored_object(factory):
    origin, gh = cache_stack(factory)
    origin.set("/r", headers=PUBLIC, body=b"0123456789")
    get(gh, "/r")
    r = get(gh, "/r", headers=[("Range", "bytes=2-4")])
    assert r.status == 206 and r.body == b"234"
    assert r.header("content-range") == "bytes 2-4/10"
    assert origin.count("/r") == 1


def test_a_client_conditional_gets_304_from_a_fresh_object(factory):
    origin, gh = cache_stack(factory)
    origin.set("/c", headers=PUBLIC + [("ETag", '"v1"')])
    get(gh, "/c")
    r = get(gh, "/c", headers=[("If-None-Match", '"v1"')])
    assert r.status == 304
    assert origin.count("/c") == 1


def test_set_cookie_private_and_authorization_responses_are_not_shared(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cookie", headers=PUBLIC + [("Set-Cookie", "s=1")], body=b"user1")
    origin.set("/private", headers=[("Cache-Control", "private, max-age=60")], body=b"user1")
    origin.set("/auth", headers=[("Cache-Control", "max-age=60")], body=b"user1")
    for path in ("/cookie", "/private"):
        get(gh, path)
        r = get(gh, path)
        assert r.header("x-cache") != "HIT"
        assert origin.count(path) == 2
    get(gh, "/auth", headers=[("Authorization", "Basic dTE6cA==")])
    r = get(gh, "/auth", headers=[("Authorization", "Basic dTI6cA==")])
    assert r.header("x-cache") != "HIT"
    assert origin.count("/auth") == 2


def test_a_backend_that_dies_mid_body_leaves_nothing_stored(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cut", headers=PUBLIC, body=b"x" * 100000, die_after=5000)
    r = get(gh, "/cut")
    assert not r.complete or len(r.body) < 100000
    origin.set("/cut", headers=PUBLIC, body=b"y" * 10)
    r = get(gh, "/cut")
    assert r.header("x-cache") == "MISS" and r.body == b"y" * 10
    assert origin.count("/cut") == 2


def test_vary_selects_the_variant(factory):
    origin, gh = cache_stack(factory)
    origin.set("/v", lambda m, t, f: Answer(headers=PUBLIC + [("Vary", "Accept-Language")],
                                           body=f.get("accept-language", "-").encode()))
    assert get(gh, "/v", headers=[("Accept-Language", "en")]).body == b"en"
    assert get(gh, "/v", headers=[("Accept-Language", "fr")]).body == b"fr"
    r = get(gh, "/v", headers=[("Accept-Language", "en")])
    assert r.body == b"en" and r.header("x-cache") == "HIT"
    assert origin.count("/v") == 2


def test_vary_star_is_never_served_from_cache(factory):
    origin, gh = cache_stack(factory)
    origin.set("/star", headers=PUBLIC + [("Vary", "*")])
    get(gh, "/star")
    get(gh, "/star")
    assert origin.count("/star") == 2


def test_the_targeted_field_wins_and_is_not_forwarded(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cdn", headers=[("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=60"),
                                ("Surrogate-Key", "t1 t2")])
    r1 = get(gh, "/cdn")
    assert r1.header("cdn-cache-control") is None and r1.header("surrogate-key") is None
    r2 = get(gh, "/cdn")
    assert r2.header("x-cache") == "HIT"
    assert r2.header("cdn-cache-control") is None and r2.header("surrogate-key") is None
    assert origin.count("/cdn") == 1


def test_max_object_size_is_respected(factory):
    origin, gh = cache_stack(factory, cache={"max_object_size": "1KiB"})
    origin.set("/big", headers=PUBLIC, body=b"b" * 4096)
    origin.set("/small", headers=PUBLIC, body=b"s" * 100)
    for _ in range(2):
        assert get(gh, "/big").body == b"b" * 4096
        assert get(gh, "/small").body == b"s" * 100
    assert origin.count("/big") == 2
    assert origin.count("/small") == 1


def test_a_post_invalidates_the_stored_object(factory):
    origin, gh = cache_stack(factory)
    origin.set("/p", headers=PUBLIC)
    get(gh, "/p")
    assert get(gh, "/p").header("x-cache") == "HIT"
    r = get(gh, "/p", method="POST")
    assert r.header("x-cache") == "BYPASS"
    assert get(gh, "/p").header("x-cache") == "MISS"
    assert origin.count("/p") == 3


def test_a_rule_bypass_goes_to_the_backend_every_time(factory):
    origin, gh = cache_stack(factory, rules=[{"name": "nocache", "pool": "app", "cache": "bypass"}])
    origin.set("/b", headers=PUBLIC)
    get(gh, "/b")
    r = get(gh, "/b")
    assert r.header("x-cache") == "BYPASS"
    assert origin.count("/b") == 2


def test_a_rule_ttl_overrides_the_backend_freshness(factory):
    origin, gh = cache_stack(factory, rules=[{"name": "ttl", "pool": "app", "cache": {"ttl": "1h"}}])
    origin.set("/t", headers=[("Cache-Control", "max-age=0")])
    get(gh, "/t")
    assert get(gh, "/t").header("x-cache") == "HIT"
    assert origin.count("/t") == 1


def test_only_if_cached_with_nothing_stored_is_504(factory):
    origin, gh = cache_stack(factory)
    r = get(gh, "/none", headers=[("Cache-Control", "only-if-cached")])
    assert r.status == 504
    assert origin.count() == 0
