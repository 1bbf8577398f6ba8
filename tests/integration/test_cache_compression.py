# SPDX-License-Identifier: MIT
"""cache.compress: compressible responses the backend sent uncompressed are stored once and
served br, gzip or identity by the client's Accept-Encoding; never for Range, for types that
are already compressed, or for responses the backend encoded itself."""
import gzip
import shutil
import subprocess

from cacheutil import cache_stack, get

PUBLIC = [("Cache-Control", "public, max-age=60")]
HTML = PUBLIC + [("Content-Type", "text/html; charset=utf-8")]
BODY = b"<html><body>" + b"<p>gatehouse compresses what it stores</p>\n" * 200 + b"</body></html>"
COMPRESS = {"compress": ["gzip", "br"]}


def vary_names(r):
    """The Vary names of a response, lowercased, over all its Vary lines."""
    names = set()
    for n, v in r.headers:
        if n.lower() == "vary":
            names |= {x.strip().lower() for x in v.split(",")}
    return names


def brotli_decode(data):
    """The decoded bytes, or None when no brotli decoder is installed."""
    tool = shutil.which("brotli")
    if not tool:
        return None
    return subprocess.run([tool, "-d", "-c"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def test_a_text_response_is_stored_once_and_served_br_gzip_or_identity(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    origin.set("/page", headers=HTML, body=BODY)
    first = get(gh, "/page", headers=[("Accept-Encoding", "gzip, deflate, br")])
    assert first.status == 200 and first.header("x-cache") == "MISS"
    assert first.header("content-encoding") is None and first.body == BODY
    assert "accept-encoding" in vary_names(first)

    br = get(gh, "/page", headers=[("Accept-Encoding", "br")])
    assert br.status == 200 and br.header("x-cache") == "HIT"
    assert br.header("content-encoding") == "br"
    assert "accept-encoding" in vary_names(br)
    assert br.body != BODY and len(br.body) < len(BODY)
    assert int(br.header("content-length")) == len(br.body)
    decoded = brotli_decode(br.body)
    if decoded is not None:
        assert decoded == BODY

    gz = get(gh, "/page", headers=[("Accept-Encoding", "gzip")])
    assert gz.status == 200 and gz.header("x-cache") == "HIT"
    assert gz.header("content-encoding") == "gzip"
    assert "accept-encoding" in vary_names(gz)
    assert gzip.decompress(gz.body) == BODY

    plain = get(gh, "/page")
    assert plain.status == 200 and plain.header("x-cache") == "HIT"
    assert plain.header("content-encoding") is None and plain.body == BODY
    assert "accept-encoding" in vary_names(plain)

    # The compressed variants are kept: asked again, they are hits too.
    again = get(gh, "/page", headers=[("Accept-Encoding", "br")])
    assert again.header("x-cache") == "HIT" and again.body == br.body
    assert origin.count("/page") == 1


def test_the_client_preference_and_q0_are_honoured(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    origin.set("/q", headers=HTML, body=BODY)
    get(gh, "/q")
    r = get(gh, "/q", headers=[("Accept-Encoding", "gzip;q=1, br;q=0.5")])
    assert r.header("content-encoding") == "gzip" and gzip.decompress(r.body) == BODY
    r = get(gh, "/q", headers=[("Accept-Encoding", "br;q=0, gzip;q=0")])
    assert r.header("content-encoding") is None and r.body == BODY
    r = get(gh, "/q", headers=[("Accept-Encoding", "*;q=0.5, br;q=0")])
    assert r.header("content-encoding") == "gzip"
    r = get(gh, "/q", headers=[("Accept-Encoding", "deflate")])
    assert r.header("content-encoding") is None and r.body == BODY
    assert r.header("x-cache") == "HIT"
    assert origin.count("/q") == 1


def test_head_gets_the_compressed_variants_head(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    origin.set("/h", headers=HTML, body=BODY)
    get(gh, "/h")
    full = get(gh, "/h", headers=[("Accept-Encoding", "gzip")])
    r = get(gh, "/h", method="HEAD", headers=[("Accept-Encoding", "gzip")])
    assert r.status == 200 and r.body == b"" and r.header("x-cache") == "HIT"
    assert r.header("content-encoding") == "gzip"
    assert r.header("content-length") == str(len(full.body))
    assert origin.count("/h") == 1


def test_an_image_is_never_compressed(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4000
    origin.set("/i.png", headers=PUBLIC + [("Content-Type", "image/png")], body=png)
    get(gh, "/i.png")
    r = get(gh, "/i.png", headers=[("Accept-Encoding", "gzip, br")])
    assert r.status == 200 and r.header("content-encoding") is None and r.body == png
    assert r.header("x-cache") == "HIT"  # no Vary: the one stored object serves everyone
    assert origin.count("/i.png") == 1


def test_a_range_request_gets_identity_bytes(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    origin.set("/r", headers=HTML, body=BODY)
    get(gh, "/r")
    get(gh, "/r", headers=[("Accept-Encoding", "gzip, br")])  # the compressed variant exists
    r = get(gh, "/r", headers=[("Accept-Encoding", "gzip, br"), ("Range", "bytes=0-5")])
    assert r.status == 206 and r.body == BODY[:6]
    assert r.header("content-encoding") is None
    assert r.header("content-range") == "bytes 0-5/%d" % len(BODY)
    assert origin.count("/r") == 1


def test_a_response_the_backend_encoded_is_untouched(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    encoded = gzip.compress(BODY)
    origin.set("/enc", headers=HTML + [("Content-Encoding", "gzip")], body=encoded)
    get(gh, "/enc", headers=[("Accept-Encoding", "gzip")])
    r = get(gh, "/enc", headers=[("Accept-Encoding", "br, gzip")])
    assert r.header("content-encoding") == "gzip" and r.body == encoded
    assert r.header("x-cache") == "HIT"
    assert origin.count("/enc") == 1


def test_no_transform_is_honoured(factory):
    origin, gh = cache_stack(factory, cache=COMPRESS)
    origin.set("/nt", headers=[("Cache-Control", "public, max-age=60, no-transform"),
                               ("Content-Type", "text/plain")], body=BODY)
    get(gh, "/nt")
    r = get(gh, "/nt", headers=[("Accept-Encoding", "br")])
    assert r.header("content-encoding") is None and r.body == BODY
    assert origin.count("/nt") == 1


def test_without_compress_nothing_is_compressed(factory):
    origin, gh = cache_stack(factory)
    origin.set("/n", headers=HTML, body=BODY)
    get(gh, "/n", headers=[("Accept-Encoding", "br")])
    r = get(gh, "/n", headers=[("Accept-Encoding", "gzip, br")])
    assert r.header("content-encoding") is None and r.body == BODY
    assert r.header("x-cache") == "HIT"
    assert "accept-encoding" not in vary_names(r)
    assert origin.count("/n") == 1


def test_backend_variants_are_keyed_on_the_acceptable_codings(factory):
    # A backend that only speaks gzip: "gzip, br" gets gzip, "br" gets identity; the two must
    # never share a stored variant.
    origin, gh = cache_stack(factory)

    def answer(method, target, fields):
        from cacheutil import Answer
        h = PUBLIC + [("Content-Type", "text/plain"), ("Vary", "Accept-Encoding")]
        if "gzip" in fields.get("accept-encoding", ""):
            return Answer(headers=h + [("Content-Encoding", "gzip")], body=gzip.compress(BODY))
        return Answer(headers=h, body=BODY)

    origin.set("/v", answer)
    a = get(gh, "/v", headers=[("Accept-Encoding", "gzip, br")])
    assert a.header("content-encoding") == "gzip"
    b = get(gh, "/v", headers=[("Accept-Encoding", "br")])
    assert b.header("content-encoding") is None and b.body == BODY
    c = get(gh, "/v", headers=[("Accept-Encoding", "br,gzip")])
    assert c.header("content-encoding") == "gzip" and c.header("x-cache") == "HIT"
    assert origin.count("/v") == 2


def test_an_object_too_large_to_compress_on_a_hit_is_served_identity_from_the_cache(factory):
    origin, gh = cache_stack(factory, cache=dict(COMPRESS, memory="128MiB", max_object_size="32MiB"))
    big = b"gatehouse " * (900 * 1024)  # 9 MiB: beyond kMaxCompressOnHit (8 MiB)
    origin.set("/big", headers=HTML, body=big)
    get(gh, "/big")
    r = get(gh, "/big", headers=[("Accept-Encoding", "br, gzip")])
    assert r.status == 200 and r.header("x-cache") == "HIT"
    assert r.header("content-encoding") is None and r.body == big
    assert origin.count("/big") == 1


def test_a_stale_compressed_variant_gives_way_to_the_new_response(factory):
    # Ages are whole seconds, so max-age=1 can go stale at the very next tick of the clock: 2 keeps
    # the first hit fresh however slow the build, and 2.1 s later it is surely stale.
    import time
    from cacheutil import Answer
    origin, gh = cache_stack(factory, cache=COMPRESS)
    bodies = [BODY, BODY.replace(b"gatehouse", b"GATEHOUSE")]

    def answer(method, target, fields):
        n = min(origin.count("/s"), 2) - 1
        return Answer(headers=[("Cache-Control", "public, max-age=2"),
                               ("Content-Type", "text/html"), ("ETag", '"v%d"' % n)],
                      body=bodies[n])

    origin.set("/s", answer)
    get(gh, "/s")
    r = get(gh, "/s", headers=[("Accept-Encoding", "gzip")])
    assert r.header("x-cache") == "HIT" and gzip.decompress(r.body) == bodies[0]
    time.sleep(2.1)  # the variants go stale
    r = get(gh, "/s", headers=[("Accept-Encoding", "gzip")])
    assert r.header("x-cache") == "MISS" and r.body == bodies[1]  # the backend's new answer
    r = get(gh, "/s", headers=[("Accept-Encoding", "gzip")])
    assert r.header("x-cache") == "HIT" and gzip.decompress(r.body) == bodies[1]
    assert r.header("etag") == 'W/"v1"'
    assert origin.count("/s") == 2


def test_a_304_refreshes_a_compressed_variant_which_keeps_its_weak_etag(factory):
    import time
    from cacheutil import Answer
    origin, gh = cache_stack(factory, cache=COMPRESS)
    head = [("Cache-Control", "public, max-age=2"), ("ETag", '"v1"')]

    def answer(method, target, fields):
        if "if-none-match" in fields:
            return Answer(status=304, reason="Not Modified", headers=head, body=b"")
        return Answer(headers=head + [("Content-Type", "text/html")], body=BODY)

    origin.set("/e", answer)
    get(gh, "/e")
    r = get(gh, "/e", headers=[("Accept-Encoding", "gzip")])
    assert r.header("x-cache") == "HIT" and r.header("etag") == 'W/"v1"'
    time.sleep(2.1)
    r = get(gh, "/e", headers=[("Accept-Encoding", "gzip")])
    assert r.header("x-cache") == "REVALIDATED"
    assert origin.last("/e")[2].get("if-none-match") == 'W/"v1"'
    assert r.header("content-encoding") == "gzip" and gzip.decompress(r.body) == BODY
    assert r.header("etag") == 'W/"v1"'
    assert origin.count("/e") == 2
