# SPDX-License-Identifier: MIT
"""The cache's admin endpoints on an admin listener: purge, ban by prefix, ban by tag."""
import http.server
import json
import threading

import pytest

from ghtest import build, connect, curl, hostport


class _Origin(http.server.BaseHTTPRequestHandler):
    """Every GET is cacheable for 10 minutes and tagged by its first path segment; each answer
    counts, so a hit is a request the origin never saw."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.count += 1
        body = ("%s #%d" % (self.path, self.server.count)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=600")
        self.send_header("Surrogate-Key", "all seg-" + self.path.strip("/").split("/")[0])
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def origin():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    srv.count = 0
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def gh(factory, origin):
    cfg = factory.config(["127.0.0.1:%d" % origin.server_address[1]], workers=1)
    cfg["listeners"].append({"name": "admin", "address": "127.0.0.1:0", "admin": True})
    cfg["cache"] = {"memory": "16MiB"}
    return factory.gatehouse(cfg)


def admin(gh, method, target):
    c = connect(hostport(gh.listeners["admin"]))
    r = c.exchange(build(method, target, host="admin.local"), method=method)
    c.close()
    return r


def get(gh, path, host="www.example.org"):
    c = gh.connect("http")
    r = c.exchange(build("GET", path, host=host))
    c.close()
    assert r.status == 200
    return r.body


def require_cache(gh, origin):
    """Skips when this build does not serve from the cache yet (the lookup stage or the
    worker's cache is not wired): the endpoints' own answers are tested either way."""
    if admin(gh, "POST", "/cache/purge?url=/nothing&host=x").status == 503:
        pytest.skip("no cache wired into the worker in this build")
    before = origin.count
    get(gh, "/probe/x")
    get(gh, "/probe/x")
    if origin.count != before + 1:
        pytest.skip("responses are not served from the cache in this build")


def test_an_unknown_admin_path_is_a_404_in_json(gh):
    r = admin(gh, "GET", "/nope")
    assert r.status == 404
    assert r.header("content-type") == "application/json"
    assert "error" in json.loads(r.body)


def test_another_method_on_a_cache_endpoint_is_a_405_with_allow_post(gh):
    for target in ("/cache/purge?url=/x", "/cache/ban?tag=t"):
        r = admin(gh, "GET", target)
        assert r.status == 405
        assert r.header("allow") == "POST"
        assert r.header("content-type") == "application/json"


def test_a_ban_without_prefix_or_tag_is_a_400(gh, origin):
    r = admin(gh, "POST", "/cache/ban")
    assert r.status in (400, 503)
    assert "error" in json.loads(r.body)


def test_purge_drops_the_object_and_the_next_request_goes_to_the_backend(gh, origin):
    require_cache(gh, origin)
    first = get(gh, "/docs/a")
    assert get(gh, "/docs/a") == first
    n = origin.count
    r = admin(gh, "POST", "/cache/purge?url=http%3A%2F%2Fwww.example.org%2Fdocs%2Fa")
    assert r.status == 200
    assert r.header("content-type") == "application/json"
    assert json.loads(r.body) == {"purged": 1}
    assert get(gh, "/docs/a") != first
    assert origin.count == n + 1


def test_a_prefix_ban_drops_the_subtree_of_one_host(gh, origin):
    require_cache(gh, origin)
    a = get(gh, "/docs/a")
    b = get(gh, "/docs/b")
    blog = get(gh, "/blog/a")
    other = get(gh, "/docs/a", host="other.example")
    r = admin(gh, "POST", "/cache/ban?prefix=/docs/&host=www.example.org")
    assert r.status == 200
    assert json.loads(r.body) == {"banned": "prefix", "prefix": "/docs/",
                                  "host": "www.example.org"}
    assert get(gh, "/docs/a") != a
    assert get(gh, "/docs/b") != b
    assert get(gh, "/blog/a") == blog
    assert get(gh, "/docs/a", host="other.example") == other


def test_a_tag_ban_drops_what_the_backend_tagged_and_surrogate_key_never_reaches_clients(
        gh, origin):
    require_cache(gh, origin)
    c = gh.connect("http")
    r = c.exchange(build("GET", "/tagged/a", host="www.example.org"))
    c.close()
    assert not r.has("surrogate-key")
    a = r.body
    blog = get(gh, "/blog/b")
    r = admin(gh, "POST", "/cache/ban?tag=seg-tagged")
    assert r.status == 200
    assert json.loads(r.body) == {"banned": "tag", "tag": "seg-tagged"}
    assert get(gh, "/tagged/a") != a
    assert get(gh, "/blog/b") == blog


def test_admin_answers_over_http2_carry_the_json_body_and_allow(gh):
    host, port = hostport(gh.listeners["admin"])
    out = curl("--http2-prior-knowledge", "-s", "-i", "http://%s:%d/cache/purge?url=/x" % (host, port))
    text = out.stdout.decode()
    head, _, body = text.partition("\r\n\r\n")
    assert head.startswith("HTTP/2 405")
    assert "allow: POST" in head
    assert "content-type: application/json" in head
    assert "content-length: %d" % len(body) in head
    assert "error" in json.loads(body)
