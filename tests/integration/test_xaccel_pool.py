# SPDX-License-Identifier: MIT
"""X-Accel-Redirect to an internal location with a pool (object storage behind the app): the
target is proxied to that pool as a GET (HEAD stays HEAD), query included, and cached like any
proxied response; at most 10 internal redirects."""
import pytest

import ghtest
from cacheutil import Answer, Origin


@pytest.fixture
def stack(factory):
    app, store = Origin(), Origin()
    cfg = factory.config(
        [app.address], workers=1,
        pools={"app": {"servers": [app.address]}, "store": {"servers": [store.address]}},
        cache={"memory": "64MiB", "status_header": "X-Cache"},
        internal=[{"prefix": "/objects/", "pool": "store"}])
    gh = factory.gatehouse(cfg)
    yield app, store, gh
    app.stop()
    store.stop()


def accel(target, *extra):
    return Answer(headers=[("X-Accel-Redirect", target), ("Set-Cookie", "s=1"), *extra],
                  body=b"app body, never sent")


def test_the_target_is_fetched_from_the_pool_with_its_query_and_the_client_fields(stack):
    app, store, gh = stack
    app.set("/dl", accel("/objects/o1?sig=abc"))
    store.set("/objects/o1", Answer(headers=[("Content-Type", "application/x-git")],
                                    body=b"object bytes"))
    r = ghtest.request(gh, target="/dl", headers=[("X-Client", "c1")])
    assert r.status == 200 and r.body == b"object bytes"
    assert r.header("content-type") == "application/x-git"
    assert r.header("x-accel-redirect") is None
    method, target, fields = store.last("/objects/o1")
    assert method == "GET" and target == "/objects/o1?sig=abc"
    assert fields["x-client"] == "c1"
    assert app.count("/dl") == 1 and store.count("/objects/o1") == 1


def test_a_post_becomes_a_get_with_no_body_and_head_stays_head(stack):
    app, store, gh = stack
    app.set("/form", accel("/objects/o2"))
    store.set("/objects/o2", Answer(body=b"from the store"))
    r = ghtest.request(gh, method="POST", target="/form", body=b"a=1&b=2")
    assert r.status == 200 and r.body == b"from the store"
    method, _, fields = store.last("/objects/o2")
    assert method == "GET" and fields.get("content-length", "0") == "0"
    r = ghtest.request(gh, method="HEAD", target="/form")
    assert r.status == 200 and r.body == b""
    assert store.last("/objects/o2")[0] == "HEAD"


def test_the_pool_response_is_cached_like_any_proxied_one(stack):
    app, store, gh = stack
    app.set("/dl", accel("/objects/o3"))
    store.set("/objects/o3", Answer(headers=[("Cache-Control", "public, max-age=60")],
                                    body=b"cacheable object"))
    for _ in range(3):
        r = ghtest.request(gh, target="/dl")
        assert r.status == 200 and r.body == b"cacheable object"
    assert r.header("x-cache") == "HIT"
    assert app.count("/dl") == 3  # the app's answer itself was not cacheable
    assert store.count("/objects/o3") == 1


def test_a_cached_decision_and_a_cached_object_leave_both_backends_alone(stack):
    app, store, gh = stack
    # (No Set-Cookie: a decision that sets a cookie is never stored.)
    app.set("/dl", Answer(headers=[("X-Accel-Redirect", "/objects/o4"),
                                   ("X-Accel-Expires", "60")]))
    store.set("/objects/o4", Answer(headers=[("Cache-Control", "public, max-age=60")],
                                    body=b"object four"))
    for _ in range(3):
        r = ghtest.request(gh, target="/dl")
        assert r.status == 200 and r.body == b"object four"
    assert app.count("/dl") == 1 and store.count("/objects/o4") == 1


def test_a_range_goes_to_the_pool(stack):
    app, store, gh = stack
    app.set("/dl", accel("/objects/o5"))
    store.set("/objects/o5", lambda m, t, f: Answer(
        status=206, reason="Partial Content", headers=[("Content-Range", "bytes 0-1/10")],
        body=b"ab") if "range" in f else Answer(body=b"abcdefghij"))
    r = ghtest.request(gh, target="/dl", headers=[("Range", "bytes=0-1")])
    assert r.status == 206 and r.body == b"ab"
    assert store.last("/objects/o5")[2]["range"] == "bytes=0-1"


def test_a_cold_range_fills_the_cache_from_the_pool_in_the_background(stack):
    app, store, gh = stack
    app.set("/dl", accel("/objects/o6"))
    store.set("/objects/o6", Answer(headers=[("Cache-Control", "public, max-age=60")],
                                    body=b"0123456789"))
    r = ghtest.request(gh, target="/dl", headers=[("Range", "bytes=2-4")])
    assert r.status == 206 and r.body == b"234"
    assert ghtest.wait_for(lambda: ghtest.request(gh, target="/dl").header("x-cache") == "HIT")
    assert store.count("/objects/o6") == 1 and "range" not in store.last("/objects/o6")[2]
    assert "internal location refused" not in gh.stderr()


def test_more_than_ten_internal_redirects_give_500(stack):
    app, store, gh = stack
    app.set("/loop", accel("/objects/loop"))
    store.set("/objects/loop", accel("/objects/loop"))
    r = ghtest.request(gh, target="/loop")
    assert r.status == 500
    assert store.count("/objects/loop") == 10
    assert ghtest.wait_for(lambda: "more than 10 internal redirects" in gh.stderr())


def test_a_client_request_to_the_pool_prefix_gets_404(stack):
    app, store, gh = stack
    r = ghtest.request(gh, target="/%6Fbjects/o1")
    assert r.status == 404
    assert store.count() == 0 and app.count() == 0


def test_a_stale_decision_refreshed_by_a_304_still_redirects_to_the_pool(stack):
    import time
    app, store, gh = stack
    head = [("X-Accel-Redirect", "/objects/o7"), ("Cache-Control", "public, max-age=2"),
            ("ETag", '"d7"')]
    app.set("/dl", lambda m, t, f: Answer(status=304, reason="Not Modified", headers=head,
                                          body=b"") if "if-none-match" in f
            else Answer(headers=head, body=b""))
    store.set("/objects/o7", Answer(headers=[("Cache-Control", "public, max-age=60")],
                                    body=b"object seven"))
    assert ghtest.request(gh, target="/dl").body == b"object seven"
    time.sleep(2.1)  # the decision goes stale (whole-second ages: max-age=2)
    r = ghtest.request(gh, target="/dl")
    assert r.status == 200 and r.body == b"object seven"
    assert app.count("/dl") == 2 and app.last("/dl")[2].get("if-none-match") == '"d7"'
    assert store.count("/objects/o7") == 1
