# SPDX-License-Identifier: MIT
"""Concurrent misses for one key make one backend request; waiters are served as it streams."""
import threading

import ghtest
from cacheutil import Answer, cache_stack, get

PUBLIC = [("Cache-Control", "public, max-age=60")]


def _many(gh, target, n):
    results = [None] * n

    def one(i):
        try:
            results[i] = get(gh, target)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_100_concurrent_requests_for_a_cold_url_make_one_backend_request(factory):
    origin, gh = cache_stack(factory)
    origin.set("/cold", Answer(headers=PUBLIC, body=b"z" * 200000, delay=0.5))
    results = _many(gh, "/cold", 100)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"z" * 200000
    assert origin.count("/cold") == 1


def test_waiters_on_an_uncacheable_response_go_to_the_backend_in_parallel(factory):
    origin, gh = cache_stack(factory)
    origin.set("/nostore", Answer(headers=[("Cache-Control", "no-store")], body=b"n", delay=0.3))
    results = _many(gh, "/nostore", 10)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status == 200 and r.body == b"n"
    assert origin.count("/nostore") == 10


def test_a_waiter_whose_request_selects_another_variant_is_not_given_the_leaders(factory):
    origin, gh = cache_stack(factory)
    origin.set("/lang", Answer(headers=PUBLIC + [("Vary", "Accept-Language")], body=b"en",
                               delay=0.5))
    results = [None, None]

    def one(i, lang):
        results[i] = get(gh, "/lang", headers=[("Accept-Language", lang)])

    first = threading.Thread(target=one, args=(0, "en"))
    first.start()
    assert ghtest.wait_for(lambda: origin.count("/lang") == 1)  # the leader is at the backend
    origin.set("/lang", Answer(headers=PUBLIC + [("Vary", "Accept-Language")], body=b"fr"))
    second = threading.Thread(target=one, args=(1, "fr"))
    second.start()
    first.join(30)
    second.join(30)
    assert results[0].body == b"en"
    assert results[1].body == b"fr"  # its own answer, not the leader's variant
    assert origin.count("/lang") == 2
