// SPDX-License-Identifier: MIT
// RFC 9111 3: what a shared cache may store.
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;
using proxy::http::Method;

namespace {

StoreDecision store(const Req& req, const Resp& r, PolicyConfig config = {}) {
  return decide_store(req.head, r.head, kNow, kNow, config);
}
StoreDecision store(const Resp& r, PolicyConfig config = {}) {
  Req req;
  return store(req, r, config);
}

}  // namespace

TEST_CASE("RFC 9111 3: a 200 with max-age is stored") {
  Resp r(200, {{"Cache-Control", "max-age=60"}});
  const auto d = store(r);
  CHECK(d.store);
  CHECK(std::string(d.reason).empty());
}

TEST_CASE("RFC 9110 15.1: the heuristically cacheable status codes") {
  for (int s : {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}) {
    CAPTURE(s);
    CHECK(heuristically_cacheable(s));
  }
  for (int s : {100, 201, 202, 302, 303, 304, 307, 400, 401, 403, 500, 502, 503, 504}) {
    CAPTURE(s);
    CHECK_FALSE(heuristically_cacheable(s));
  }
}

TEST_CASE("RFC 9111 3: a heuristically cacheable status is stored with only Last-Modified") {
  for (int s : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}) {
    CAPTURE(s);
    Resp r(s, {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 1000)}});
    CHECK(store(r).store);
  }
}

TEST_CASE("RFC 9111 3: other statuses are stored only with explicit freshness or public") {
  for (int s : {201, 302, 303, 307, 400, 403, 500, 502, 503}) {
    CAPTURE(s);
    Resp bare(s, {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 1000)}});
    CHECK_FALSE(store(bare).store);
    Resp fresh(s, {{"Cache-Control", "max-age=60"}});
    CHECK(store(fresh).store);
    Resp expires(s, {{"Date", date(kNow)}, {"Expires", date(kNow + 60)}});
    CHECK(store(expires).store);
  }
}

TEST_CASE("RFC 9111 3: an interim 1xx response is never stored") {
  Resp r(103, {{"Cache-Control", "max-age=60"}});
  CHECK_FALSE(store(r).store);
}

TEST_CASE("gatehouse stores complete responses only: no 206, no 304 as a new object") {
  Resp partial(206, {{"Cache-Control", "max-age=60"}, {"Content-Range", "bytes 0-1/10"}});
  CHECK_FALSE(store(partial).store);
  Resp nm(304, {{"Cache-Control", "max-age=60"}, {"ETag", "\"a\""}});
  CHECK_FALSE(store(nm).store);
}

TEST_CASE("RFC 9111 3: only responses to GET are stored by gatehouse") {
  Resp r(200, {{"Cache-Control", "max-age=60"}});
  for (Method m : {Method::kHead, Method::kPost, Method::kPut, Method::kDelete, Method::kOptions}) {
    Req req({}, m);
    CHECK_FALSE(store(req, r).store);
  }
}

TEST_CASE("RFC 9111 5.2.2.5: a response with no-store is not stored") {
  Resp r(200, {{"Cache-Control", "max-age=60, no-store"}});
  const auto d = store(r);
  CHECK_FALSE(d.store);
  CHECK(std::string(d.reason) == "no-store");
}

TEST_CASE("RFC 9111 5.2.1.5: a request with no-store has its response not stored") {
  Req req({{"Cache-Control", "no-store"}});
  Resp r(200, {{"Cache-Control", "max-age=60"}});
  CHECK_FALSE(store(req, r).store);
}

TEST_CASE("RFC 9111 5.2.2.7: unqualified private is not stored by a shared cache") {
  Resp r(200, {{"Cache-Control", "private, max-age=60"}});
  CHECK_FALSE(store(r).store);
}

TEST_CASE("RFC 9111 5.2.2.7: qualified private is stored, without the listed fields") {
  Resp r(200, {{"Cache-Control", "private=\"X-User\", max-age=60"},
               {"X-User", "alice"},
               {"Content-Type", "text/html"}});
  REQUIRE(store(r).store);
  const Directives cc = parse_cache_control(r.headers());
  const proxy::http::ConnectionOptions conn(r.headers());
  CHECK_FALSE(stored_field("X-User", cc, conn, "cdn-cache-control"));
  CHECK_FALSE(stored_field("x-user", cc, conn, "cdn-cache-control"));
  CHECK(stored_field("Content-Type", cc, conn, "cdn-cache-control"));
}

TEST_CASE("RFC 9111 5.2.2.4: a no-cache response is stored and revalidated on every use") {
  Resp r(200, {{"Cache-Control", "no-cache"}, {"ETag", "\"v1\""}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.no_cache);
}

TEST_CASE("RFC 9111 5.2.2.3: must-understand with an understood status ignores no-store") {
  Resp r(200, {{"Cache-Control", "must-understand, no-store, max-age=60"}});
  CHECK(store(r).store);
  Resp unknown(299, {{"Cache-Control", "must-understand, no-store, max-age=60"}});
  CHECK_FALSE(store(unknown).store);
  Resp unknown_plain(299, {{"Cache-Control", "must-understand, max-age=60"}});
  CHECK_FALSE(store(unknown_plain).store);
}

TEST_CASE("RFC 9111 3.5: a response to a request with Authorization needs explicit permission") {
  Req req({{"Authorization", "Basic dTpw"}});
  Resp plain(200, {{"Cache-Control", "max-age=60"}});
  CHECK(std::string(store(req, plain).reason) == "Authorization");
  for (const char* v : {"public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"}) {
    CAPTURE(v);
    Resp ok(200, {{"Cache-Control", v}});
    CHECK(store(req, ok).store);
  }
}

TEST_CASE("a response with Set-Cookie is never stored") {
  Resp r(200, {{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "sid=1"}});
  const auto d = store(r);
  CHECK_FALSE(d.store);
  CHECK(std::string(d.reason) == "Set-Cookie");
  PolicyConfig ttl;
  ttl.ttl = 60;
  CHECK_FALSE(store(r, ttl).store);
}

TEST_CASE("a rule's ttl never stores no-store or private responses") {
  PolicyConfig ttl;
  ttl.ttl = 60;
  Resp ns(200, {{"Cache-Control", "no-store"}});
  CHECK_FALSE(store(ns, ttl).store);
  Resp pr(200, {{"Cache-Control", "private"}});
  CHECK_FALSE(store(pr, ttl).store);
}

TEST_CASE("RFC 9111 4.1: a response with Vary: * is not stored (it never matches)") {
  Resp r(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept, *"}});
  CHECK_FALSE(store(r).store);
}

TEST_CASE("a body declared larger than max_object_size is not stored") {
  PolicyConfig config;
  config.max_object_size = 100;
  Resp r(200, {{"Cache-Control", "max-age=60"}});
  r.head.framing = proxy::http::Framing::kLength;
  r.head.content_length = 101;
  CHECK_FALSE(store(r, config).store);
  r.head.content_length = 100;
  CHECK(store(r, config).store);
}

TEST_CASE("a response without freshness and without validators is not worth storing") {
  Resp r(200, {{"Date", date(kNow)}});
  CHECK_FALSE(store(r).store);
  Resp etag(200, {{"Date", date(kNow)}, {"ETag", "\"a\""}});
  const auto d = store(etag);
  CHECK(d.store);
  CHECK(d.freshness.lifetime == 0);
}

TEST_CASE("RFC 9213 2.1: the targeted field's directives replace Cache-Control's") {
  Resp r(200, {{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=600"}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 600);
  Resp refuse(200, {{"Cache-Control", "max-age=600"}, {"CDN-Cache-Control", "no-store"}});
  CHECK_FALSE(store(refuse).store);
}

TEST_CASE("RFC 9213 2.1: with a targeted field, Expires is ignored too") {
  Resp r(200, {{"Expires", date(kNow + 600)}, {"CDN-Cache-Control", "public"}, {"ETag", "\"a\""}});
  CHECK(store(r).freshness.lifetime == 0);
}

TEST_CASE("RFC 9213 2.1: an empty targeted field is ignored") {
  Resp r(200, {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", ""}});
  CHECK(store(r).freshness.lifetime == 60);
}

TEST_CASE("RFC 9213 2.1: the targeted field's name is configurable") {
  PolicyConfig config;
  config.targeted_header = "gatehouse-cache-control";
  Resp r(200, {{"Cache-Control", "max-age=60"},
               {"CDN-Cache-Control", "max-age=1"},
               {"Gatehouse-Cache-Control", "max-age=900"}});
  CHECK(store(r, config).freshness.lifetime == 900);
}

TEST_CASE(
    "RFC 9111 3.1: hop-by-hop, Connection-listed, Age, Surrogate-Key and the targeted "
    "field are not stored") {
  Resp r(200, {{"Connection", "close, X-Hop"}, {"X-Hop", "1"}, {"Keep-Alive", "timeout=5"}});
  const Directives cc;
  const proxy::http::ConnectionOptions conn(r.headers());
  for (const char* name : {"Connection", "X-Hop", "Keep-Alive", "Transfer-Encoding", "Age",
                           "Surrogate-Key", "CDN-Cache-Control", "Set-Cookie"}) {
    CAPTURE(name);
    CHECK_FALSE(stored_field(name, cc, conn, "cdn-cache-control"));
  }
  for (const char* name : {"Content-Type", "ETag", "Cache-Control", "Content-Length", "Vary"}) {
    CAPTURE(name);
    CHECK(stored_field(name, cc, conn, "cdn-cache-control"));
  }
}

TEST_CASE("RFC 9111 5.2.2.4: qualified no-cache fields are not stored") {
  Resp r(200, {{"Cache-Control", "no-cache=\"X-Secret\", max-age=60"}});
  const Directives cc = parse_cache_control(r.headers());
  const proxy::http::ConnectionOptions conn(r.headers());
  CHECK(store(r).store);
  CHECK_FALSE(store(r).freshness.no_cache);
  CHECK_FALSE(stored_field("X-Secret", cc, conn, "cdn-cache-control"));
}

TEST_CASE("RFC 9213 2.1: an invalid targeted field leaves Cache-Control in charge") {
  Resp unknown(200, {{"CDN-Cache-Control", "max-age=10000, &&&&&"}, {"Cache-Control", "no-store"}});
  CHECK_FALSE(store(unknown).store);
  Resp wrong(200, {{"CDN-Cache-Control", "max-age=\"10000\""}, {"Cache-Control", "no-store"}});
  CHECK_FALSE(store(wrong).store);
  Resp fine(200, {{"CDN-Cache-Control", "foobar, max-age=3600"}, {"Cache-Control", "no-store"}});
  CHECK(store(fine).store);
}

TEST_CASE("RFC 9213 2.1: targeted private, no-cache and max-age=0 beat a fresh Cache-Control") {
  Resp priv(200, {{"CDN-Cache-Control", "private"},
                  {"Cache-Control", "max-age=10000"},
                  {"Expires", date(kNow + 10000)},
                  {"Date", date(kNow)}});
  CHECK_FALSE(store(priv).store);
  Resp nc(
      200,
      {{"CDN-Cache-Control", "no-cache"}, {"Cache-Control", "max-age=10000"}, {"ETag", "\"a\""}});
  CHECK(store(nc).freshness.no_cache);
  Resp zero(200, {{"CDN-Cache-Control", "max-age=0"},
                  {"Expires", date(kNow + 10000)},
                  {"Date", date(kNow)},
                  {"ETag", "\"a\""}});
  CHECK(store(zero).freshness.lifetime == 0);
}

TEST_CASE("RFC 9213 2.1: a targeted max-age with a past or invalid Expires stays fresh") {
  Resp past(200, {{"CDN-Cache-Control", "max-age=3600"},
                  {"Expires", date(kNow - 10000)},
                  {"Date", date(kNow)}});
  CHECK(store(past).freshness.lifetime == 3600);
  Resp invalid(200, {{"CDN-Cache-Control", "max-age=3600"}, {"Expires", "0"}});
  CHECK(store(invalid).freshness.lifetime == 3600);
}
