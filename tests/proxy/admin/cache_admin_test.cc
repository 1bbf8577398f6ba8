// SPDX-License-Identifier: MIT
// The cache's admin endpoints: query parsing, what each answers, and what it drops.
#include "proxy/admin/cache_admin.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "cache/cache.h"
#include "cache/cache_key.h"

using proxy::admin::handle_cache_admin;
using proxy::admin::query_param;
using proxy::http::Method;

namespace {

struct Admin {
  cache::Cache cache{cache::CacheSettings{}};
  proxy::http::RequestHead req;
  std::string body;

  proxy::admin::AdminResult call(std::string_view path, std::string_view query,
                                 Method method = Method::kPost, bool include_scheme = false) {
    req.method = method;
    req.path = path;
    req.query = query;
    req.has_query = !query.empty();
    req.authority = "127.0.0.1:9901";
    return handle_cache_admin(req, &cache, include_scheme, body);
  }

  // Stores a complete object for scheme://host path.
  void store(std::string_view scheme, std::string_view host, std::string_view path,
             std::string_view tags = "", std::string_view variant = "",
             bool include_scheme = false) {
    cache::ObjectHead head;
    head.fields = "Content-Length: 1\r\n";
    head.host = std::string(host);
    head.path = std::string(path);
    head.tags = std::string(tags);
    head.vary = variant.empty() ? "" : "accept-encoding";
    head.variant = std::string(variant);
    head.freshness.lifetime = 3600;
    head.body_size = 1;
    const auto key = cache::make_key(scheme, host, path, "", false, include_scheme);
    auto w = cache.fill(key, std::move(head), false);
    REQUIRE(w);
    REQUIRE(w->append("x", 1));
    REQUIRE(w->commit());
  }

  bool cached(std::string_view scheme, std::string_view host, std::string_view path,
              std::string_view variant = "", bool include_scheme = false) {
    const auto key = cache::make_key(scheme, host, path, "", false, include_scheme);
    const std::string v(variant);
    return cache.lookup(key, [&](std::string_view) { return v; }) != nullptr;
  }
};

}  // namespace

TEST_CASE("query values are found by name and percent-decoded") {
  std::string v;
  CHECK(query_param("url=http%3A%2F%2Fa.example%2Fx%3Fy%3D1&host=h", "url", v));
  CHECK(v == "http://a.example/x?y=1");
  CHECK(query_param("url=/a&host=h", "host", v));
  CHECK(v == "h");
  CHECK(query_param("prefix=/a+b/", "prefix", v));
  CHECK(v == "/a+b/");  // '+' is not a space in a URL
  CHECK(query_param("tag=", "tag", v));
  CHECK(v.empty());
  CHECK_FALSE(query_param("urls=1", "url", v));
  CHECK_FALSE(query_param("", "url", v));
  CHECK_FALSE(query_param("url=%4", "url", v));
  CHECK_FALSE(query_param("url=%zz", "url", v));
  CHECK_FALSE(query_param("url=%00", "url", v));
}

TEST_CASE("JSON strings are quoted and escaped") {
  std::string out;
  proxy::admin::append_json_string(out, "a\"b\\c\n\x01");
  CHECK(out == "\"a\\\"b\\\\c\\u000a\\u0001\"");
}

TEST_CASE("POST /cache/purge?url= drops every Vary variant of the URL and says how many") {
  Admin a;
  a.store("http", "www.example.org", "/page", "", "gzip");
  a.store("http", "www.example.org", "/page", "", "br");
  a.store("http", "www.example.org", "/other");
  REQUIRE(a.cached("http", "www.example.org", "/page", "gzip"));
  REQUIRE(a.cached("http", "www.example.org", "/page", "br"));
  SUBCASE("absolute URL") {
    CHECK(a.call("/cache/purge", "url=http%3A%2F%2Fwww.example.org%2Fpage").status == 200);
  }
  SUBCASE("a path with host=") {
    CHECK(a.call("/cache/purge", "url=/page&host=WWW.example.org").status == 200);
  }
  SUBCASE("a path that normalizes to the stored one") {
    CHECK(a.call("/cache/purge", "url=/a/../%2570age&host=www.example.org").status == 200);
  }
  CHECK(a.body == "{\"purged\": 2}\n");
  CHECK_FALSE(a.cached("http", "www.example.org", "/page", "gzip"));
  CHECK_FALSE(a.cached("http", "www.example.org", "/page", "br"));
  CHECK(a.cached("http", "www.example.org", "/other"));
}

TEST_CASE("a purge of nothing cached answers {\"purged\": 0}") {
  Admin a;
  CHECK(a.call("/cache/purge", "url=http://a.example/none").status == 200);
  CHECK(a.body == "{\"purged\": 0}\n");
}

TEST_CASE("with share_http_https false, a purged path drops both schemes' objects") {
  Admin a;
  a.store("http", "a.example", "/x", "", "", true);
  a.store("https", "a.example", "/x", "", "", true);
  CHECK(a.call("/cache/purge", "url=/x&host=a.example", Method::kPost, true).status == 200);
  CHECK(a.body == "{\"purged\": 2}\n");
  CHECK_FALSE(a.cached("https", "a.example", "/x", "", true));
}

TEST_CASE("a purge without a usable url is a 400") {
  Admin a;
  SUBCASE("none") {
    CHECK(a.call("/cache/purge", "").status == 400);
  }
  SUBCASE("not http") {
    CHECK(a.call("/cache/purge", "url=ftp://a/b").status == 400);
  }
  SUBCASE("a climb above the root") {
    CHECK(a.call("/cache/purge", "url=/../x&host=a").status == 400);
  }
  CHECK(a.body.rfind("{\"error\": ", 0) == 0);
}

TEST_CASE("POST /cache/ban?prefix= drops the subtree, on one host or all") {
  Admin a;
  a.store("http", "a.example", "/docs/one");
  a.store("http", "a.example", "/docs/two");
  a.store("http", "b.example", "/docs/one");
  a.store("http", "a.example", "/blog/one");
  SUBCASE("one host") {
    CHECK(a.call("/cache/ban", "prefix=%2Fdocs%2F&host=a.example").status == 200);
    CHECK(a.body == "{\"banned\": \"prefix\", \"prefix\": \"/docs/\", \"host\": \"a.example\"}\n");
    CHECK(a.cached("http", "b.example", "/docs/one"));
  }
  SUBCASE("every host") {
    CHECK(a.call("/cache/ban", "prefix=/docs/").status == 200);
    CHECK(a.body == "{\"banned\": \"prefix\", \"prefix\": \"/docs/\"}\n");
    CHECK_FALSE(a.cached("http", "b.example", "/docs/one"));
  }
  CHECK_FALSE(a.cached("http", "a.example", "/docs/one"));
  CHECK_FALSE(a.cached("http", "a.example", "/docs/two"));
  CHECK(a.cached("http", "a.example", "/blog/one"));
}

TEST_CASE("POST /cache/ban?tag= drops the objects whose Surrogate-Key named the tag") {
  Admin a;
  a.store("http", "a.example", "/1", "user-7 project-3");
  a.store("http", "a.example", "/2", "project-3");
  a.store("http", "a.example", "/3", "user-7");
  CHECK(a.call("/cache/ban", "tag=project-3").status == 200);
  CHECK(a.body == "{\"banned\": \"tag\", \"tag\": \"project-3\"}\n");
  CHECK_FALSE(a.cached("http", "a.example", "/1"));
  CHECK_FALSE(a.cached("http", "a.example", "/2"));
  CHECK(a.cached("http", "a.example", "/3"));
}

TEST_CASE("a ban needs exactly one of prefix and tag, and a prefix is a path") {
  Admin a;
  CHECK(a.call("/cache/ban", "").status == 400);
  CHECK(a.call("/cache/ban", "prefix=/a/&tag=t").status == 400);
  CHECK(a.call("/cache/ban", "prefix=docs/").status == 400);
}

TEST_CASE("another method on a cache endpoint is a 405 with Allow: POST") {
  Admin a;
  for (auto m : {Method::kGet, Method::kHead, Method::kOther}) {
    auto r = a.call("/cache/purge", "url=/x", m);
    CHECK(r.status == 405);
    CHECK(r.allow == "POST");
  }
  CHECK(a.call("/cache/ban", "tag=t", Method::kGet).status == 405);
}

TEST_CASE("an unknown admin path is a 404") {
  Admin a;
  CHECK(a.call("/cache/purgeall", "").status == 404);
  CHECK(a.call("/", "", Method::kGet).status == 404);
  CHECK(a.body == "{\"error\": \"no such admin endpoint\"}\n");
}

TEST_CASE("without a cache the endpoints answer 503") {
  proxy::http::RequestHead req;
  req.method = Method::kPost;
  req.path = "/cache/purge";
  req.query = "url=/x";
  std::string body;
  CHECK(handle_cache_admin(req, nullptr, false, body).status == 503);
}

TEST_CASE("a purged URL's query is part of its key, and a path takes the request's Host") {
  Admin a;
  const auto with_query = cache::make_key("http", "www.example.org", "/s", "q=1", true, false);
  cache::ObjectHead head;
  head.host = "www.example.org";
  head.path = "/s?q=1";
  head.body_size = 0;
  auto w = a.cache.fill(with_query, std::move(head), false);
  REQUIRE(w);
  REQUIRE(w->commit());
  a.store("http", "www.example.org", "/s");
  CHECK(a.call("/cache/purge", "url=http://www.example.org/s%3Fq%3D1").status == 200);
  CHECK(a.body == "{\"purged\": 1}\n");
  CHECK(a.cached("http", "www.example.org", "/s"));
  // No host=: the admin request's own Host names the site.
  a.req.authority = "www.example.org";
  a.req.method = Method::kPost;
  a.req.path = "/cache/purge";
  a.req.query = "url=/s";
  CHECK(handle_cache_admin(a.req, &a.cache, false, a.body).status == 200);
  CHECK(a.body == "{\"purged\": 1}\n");
  CHECK_FALSE(a.cached("http", "www.example.org", "/s"));
}
