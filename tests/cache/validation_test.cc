// SPDX-License-Identifier: MIT
// RFC 9111 4.3 (validation, the 304 update) and 4.4 (invalidation).
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;
using proxy::http::Method;

namespace {

std::string merged(Fields stored, Fields update) {
  Headers s(stored), u(update);
  std::string out;
  merge_not_modified(s.list, u.list, out);
  return out;
}

std::string validators(Fields stored, bool expect = true) {
  Headers s(stored);
  std::string out;
  CHECK(validators_for(s.list, out) == expect);
  return out;
}

// Invalidation's views point into the response: the test keeps copies, the response goes.
struct Invalidated {
  bool target = false;
  std::string location;
  std::string content_location;
};

Invalidated invalidation(Method m, int status, Fields resp = {}) {
  Req req({}, m);
  Resp r(status, resp);
  const Invalidation inv = invalidation_for(req.head, r.head);
  return {inv.target, std::string(inv.location), std::string(inv.content_location)};
}

}  // namespace

TEST_CASE("RFC 9111 4.3.1: a stale response is revalidated with its ETag and Last-Modified") {
  CHECK(validators({{"ETag", "\"v1\""}}) == "If-None-Match: \"v1\"\r\n");
  CHECK(validators({{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}) ==
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  CHECK(validators({{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"ETag", "W/\"v1\""}}) ==
        "If-None-Match: W/\"v1\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
}

TEST_CASE("RFC 9111 4.3.1: without a validator there is nothing to send") {
  CHECK(validators({{"Content-Type", "text/plain"}}, false).empty());
}

TEST_CASE("RFC 9111 3.2: a 304's fields replace the stored ones of the same name") {
  CHECK(merged({{"Content-Type", "text/plain"},
                {"ETag", "\"v1\""},
                {"X-Old", "1"},
                {"Cache-Control", "max-age=1"}},
               {{"Cache-Control", "max-age=3600"}, {"X-New", "2"}, {"X-Old", "3"}}) ==
        "Content-Type: text/plain\r\nETag: \"v1\"\r\nCache-Control: max-age=3600\r\n"
        "X-New: 2\r\nX-Old: 3\r\n");
}

TEST_CASE("RFC 9111 3.2: every stored line of a replaced field goes, whatever its case") {
  CHECK(merged({{"X-A", "1"}, {"x-a", "2"}, {"X-B", "keep"}}, {{"X-a", "3"}}) ==
        "X-B: keep\r\nX-a: 3\r\n");
}

TEST_CASE("RFC 9111 3.2: Content-Length is never updated by a 304") {
  CHECK(merged({{"Content-Length", "10"}, {"Content-Encoding", "gzip"}},
               {{"Content-Length", "0"}, {"Content-Encoding", "br"}}) ==
        "Content-Length: 10\r\nContent-Encoding: gzip\r\n");
}

TEST_CASE("RFC 9111 3.2: fields excepted from storage are not taken from a 304") {
  CHECK(merged({{"ETag", "\"v1\""}}, {{"Connection", "X-Hop"},
                                      {"X-Hop", "1"},
                                      {"Keep-Alive", "timeout=1"},
                                      {"Age", "10"},
                                      {"Surrogate-Key", "a"},
                                      {"CDN-Cache-Control", "max-age=9"},
                                      {"Set-Cookie", "a=b"},
                                      {"ETag", "\"v1\""}}) == "ETag: \"v1\"\r\n");
}

TEST_CASE("RFC 9111 3.2: a 304's private=\"f\" keeps f out of the stored head") {
  CHECK(merged({{"X-User", "old"}},
               {{"Cache-Control", "private=\"X-User\", max-age=5"}, {"X-User", "bob"}}) ==
        "X-User: old\r\nCache-Control: private=\"X-User\", max-age=5\r\n");
}

TEST_CASE("RFC 9111 4.4: a successful unsafe method invalidates the target and its locations") {
  for (Method m : {Method::kPost, Method::kPut, Method::kDelete, Method::kPatch, Method::kOther}) {
    const auto inv = invalidation(m, 201, {{"Location", "/new"}, {"Content-Location", "/cl"}});
    CHECK(inv.target);
    CHECK(inv.location == "/new");
    CHECK(inv.content_location == "/cl");
  }
  CHECK(invalidation(Method::kPost, 302).target);
  CHECK(invalidation(Method::kDelete, 204).target);
}

TEST_CASE("RFC 9111 4.4: an error response or a safe method invalidates nothing") {
  CHECK_FALSE(invalidation(Method::kPost, 404).target);
  CHECK_FALSE(invalidation(Method::kPut, 500).target);
  CHECK_FALSE(invalidation(Method::kPost, 100).target);
  for (Method m : {Method::kGet, Method::kHead, Method::kOptions, Method::kTrace}) {
    const auto inv = invalidation(m, 200, {{"Location", "/x"}});
    CHECK_FALSE(inv.target);
    CHECK(inv.location.empty());
  }
}

TEST_CASE("RFC 9111 4.4: absent Location fields are empty") {
  const auto inv = invalidation(Method::kPost, 200);
  CHECK(inv.target);
  CHECK(inv.location.empty());
  CHECK(inv.content_location.empty());
}

namespace {
bool matches(Fields stored, Fields update) {
  Headers s(stored), u(update);
  return not_modified_matches(s.list, u.list);
}
}  // namespace

TEST_CASE("RFC 9111 4.3.4: a 304 updates the stored response with the same entity-tag") {
  CHECK(matches({{"ETag", "\"v1\""}}, {{"ETag", "\"v1\""}}));
  CHECK(matches({{"ETag", "W/\"v1\""}}, {{"ETag", "\"v1\""}}));
  CHECK_FALSE(matches({{"ETag", "\"v1\""}}, {{"ETag", "\"v2\""}}));
  CHECK_FALSE(matches({{"Last-Modified", date(kNow)}}, {{"ETag", "\"v1\""}}));
}

TEST_CASE("RFC 9111 4.3.4: without an entity-tag, Last-Modified identifies the response") {
  CHECK(matches({{"Last-Modified", date(kNow - 5)}}, {{"Last-Modified", date(kNow - 5)}}));
  CHECK_FALSE(matches({{"Last-Modified", date(kNow - 5)}}, {{"Last-Modified", date(kNow)}}));
  CHECK_FALSE(matches({{"ETag", "\"v1\""}}, {{"Last-Modified", date(kNow)}}));
}

TEST_CASE("RFC 9111 4.3.4: a 304 without validators updates the response it revalidated") {
  CHECK(matches({{"ETag", "\"v1\""}}, {{"Cache-Control", "max-age=60"}}));
}

TEST_CASE("RFC 9111 4.3.4: freshness after a 304 comes from the updated fields") {
  Headers merged({{"Date", date(kNow)}, {"Cache-Control", "max-age=3600"}, {"ETag", "\"v1\""}});
  Headers nm({{"Date", date(kNow)}, {"Cache-Control", "max-age=3600"}, {"Age", "20"}});
  const Freshness f = updated_freshness(200, merged.list, nm.list, kNow - 1, kNow, PolicyConfig{});
  CHECK(f.lifetime == 3600);
  CHECK(f.response_time == kNow);
  CHECK(f.corrected_initial_age == 21);
}

TEST_CASE("RFC 9213 2.1: after a 304, its targeted field governs freshness") {
  Headers merged({{"Cache-Control", "max-age=5"}, {"ETag", "\"v1\""}});
  Headers nm({{"CDN-Cache-Control", "max-age=900"}});
  CHECK(updated_freshness(200, merged.list, nm.list, kNow, kNow, PolicyConfig{}).lifetime == 900);
  Headers plain;
  CHECK(updated_freshness(200, merged.list, plain.list, kNow, kNow, PolicyConfig{}).lifetime == 5);
}

TEST_CASE("RFC 9111 4.3.4: a 304 with a new Expires and Date renews the lifetime") {
  Headers merged({{"Date", date(kNow)}, {"Expires", date(kNow + 600)}, {"ETag", "\"v1\""}});
  Headers nm({{"Date", date(kNow)}, {"Expires", date(kNow + 600)}});
  const Freshness f = updated_freshness(200, merged.list, nm.list, kNow, kNow, PolicyConfig{});
  CHECK(f.lifetime == 600);
  CHECK(f.corrected_initial_age == 0);
}

TEST_CASE("RFC 9111 4.3.4: a 304 that says no-cache makes the stored response no-cache") {
  Headers merged({{"Cache-Control", "no-cache"}, {"ETag", "\"v1\""}});
  Headers nm({{"Cache-Control", "no-cache"}});
  CHECK(updated_freshness(200, merged.list, nm.list, kNow, kNow, PolicyConfig{}).no_cache);
}
