// SPDX-License-Identifier: MIT
// Freshness lifetime and age, as decide_store fixes them when a response arrives.
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;

namespace {

// The response arrives at kNow, asked for one second before.
StoreDecision store(const Resp& r, PolicyConfig config = {}) {
  Req req;
  return decide_store(req.head, r.head, kNow - 1, kNow, config);
}

}  // namespace

TEST_CASE("RFC 9111 4.2.1: max-age is the freshness lifetime") {
  Resp r(200, {{"Date", date(kNow)}, {"Cache-Control", "max-age=3600"}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 3600);
  CHECK(d.freshness.response_time == kNow);
  CHECK_FALSE(d.freshness.heuristic);
}

TEST_CASE("RFC 9111 4.2.1: s-maxage wins over max-age for a shared cache") {
  Resp r(200, {{"Cache-Control", "max-age=10, s-maxage=600"}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 600);
  CHECK(d.freshness.must_revalidate);  // 5.2.2.10: s-maxage implies proxy-revalidate
}

TEST_CASE("RFC 9111 4.2.1: max-age wins over Expires") {
  Resp r(200,
         {{"Date", date(kNow)}, {"Expires", date(kNow + 10)}, {"Cache-Control", "max-age=100"}});
  CHECK(store(r).freshness.lifetime == 100);
}

TEST_CASE("RFC 9111 4.2.1: without max-age, the lifetime is Expires minus Date") {
  Resp r(200, {{"Date", date(kNow - 100)}, {"Expires", date(kNow + 500)}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 600);
}

TEST_CASE("RFC 9111 4.2.1: Expires without Date counts from the response time") {
  Resp r(200, {{"Expires", date(kNow + 500)}});
  CHECK(store(r).freshness.lifetime == 500);
}

TEST_CASE("RFC 9111 5.3: an invalid Expires, such as 0, means already expired") {
  for (const char* v : {"0", "-1", "never", "Thu, 18 Aug 2050 02:01:18 UTC"}) {
    CAPTURE(v);
    Resp r(200, {{"Date", date(kNow)}, {"Expires", v}, {"Last-Modified", date(kNow - 86400)}});
    const auto d = store(r);
    CHECK(d.freshness.lifetime <= 0);
    CHECK_FALSE(d.freshness.heuristic);  // an explicit (if broken) expiry rules out heuristics
  }
}

TEST_CASE("RFC 9111 4.2.1: an Expires in the past gives a stale response") {
  Resp r(200, {{"Date", date(kNow)}, {"Expires", date(kNow - 3600)}, {"ETag", "\"a\""}});
  const auto d = store(r);
  CHECK(d.store);  // it can still be revalidated
  CHECK(d.freshness.lifetime < 0);
}

TEST_CASE("RFC 9111 4.2.1: an Expires with an invalid Date is stale") {
  Resp r(200, {{"Date", "yesterday"}, {"Expires", date(kNow + 3600)}, {"ETag", "\"a\""}});
  CHECK(store(r).freshness.lifetime <= 0);
}

TEST_CASE("RFC 9111 4.2.1: an invalid or conflicting max-age is stale, whatever Expires says") {
  Resp r(200, {{"Cache-Control", "max-age=3600, max-age=0"},
               {"Expires", date(kNow + 3600)},
               {"ETag", "\"a\""}});
  CHECK(store(r).freshness.lifetime == 0);
  Resp neg(200, {{"Cache-Control", "max-age=-5"}, {"ETag", "\"a\""}});
  CHECK(store(neg).freshness.lifetime == 0);
}

TEST_CASE("RFC 9111 4.2.1: an invalid s-maxage is stale even beside a valid max-age") {
  Resp r(200, {{"Cache-Control", "s-maxage=x, max-age=3600"}, {"ETag", "\"a\""}});
  CHECK(store(r).freshness.lifetime == 0);
}

TEST_CASE("RFC 9111 4.2.3: the initial age is the larger of apparent age and corrected Age") {
  SUBCASE("Date in the past: apparent age") {
    Resp r(200, {{"Date", date(kNow - 50)}, {"Cache-Control", "max-age=100"}});
    CHECK(store(r).freshness.corrected_initial_age == 50);
  }
  SUBCASE("Age plus the response delay") {
    Resp r(200, {{"Date", date(kNow)}, {"Age", "30"}, {"Cache-Control", "max-age=100"}});
    CHECK(store(r).freshness.corrected_initial_age == 31);  // delay: asked 1 s before kNow
  }
  SUBCASE("a Date in the future gives no negative age") {
    Resp r(200, {{"Date", date(kNow + 500)}, {"Cache-Control", "max-age=100"}});
    CHECK(store(r).freshness.corrected_initial_age == 1);
  }
  SUBCASE("no Date: the response time stands in") {
    Resp r(200, {{"Cache-Control", "max-age=100"}});
    CHECK(store(r).freshness.corrected_initial_age == 1);
  }
}

TEST_CASE("RFC 9111 5.1: an Age that is not delta-seconds is ignored") {
  for (const char* v : {"abc", "-7200", "7200.0", ""}) {
    CAPTURE(v);
    Resp r(200, {{"Date", date(kNow)}, {"Age", v}, {"Cache-Control", "max-age=3600"}});
    CHECK(store(r).freshness.corrected_initial_age == 1);
  }
}

TEST_CASE("RFC 9111 5.1: an Age larger than max-age makes the response stale on arrival") {
  Resp r(200, {{"Date", date(kNow)},
               {"Age", "7200"},
               {"Cache-Control", "max-age=3600"},
               {"ETag", "\"x\""}});
  const auto d = store(r);
  CHECK(current_age(d.freshness, kNow) > d.freshness.lifetime);
}

TEST_CASE("RFC 9111 5.1: a huge Age saturates instead of overflowing") {
  Resp r(
      200,
      {{"Age", "99999999999999999999999"}, {"Cache-Control", "max-age=3600"}, {"ETag", "\"x\""}});
  CHECK(store(r).freshness.corrected_initial_age == 2147483648LL + 1);
}

TEST_CASE("RFC 9111 4.2.2: heuristic freshness is 10% of the time since Last-Modified") {
  Resp r(200, {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 10000)}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 1000);
  CHECK(d.freshness.heuristic);
}

TEST_CASE("RFC 9111 4.2.2: the heuristic lifetime is capped at one day") {
  Resp r(200, {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 86400 * 365)}});
  CHECK(store(r).freshness.lifetime == 86400);
}

TEST_CASE("RFC 9111 4.2.2: no heuristic for a status that is not heuristically cacheable") {
  Resp r(302, {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 10000)}});
  CHECK_FALSE(store(r).store);
}

TEST_CASE("RFC 9111 4.2.2: public allows a heuristic for any status") {
  Resp r(
      302,
      {{"Date", date(kNow)}, {"Last-Modified", date(kNow - 10000)}, {"Cache-Control", "public"}});
  const auto d = store(r);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 1000);
}

TEST_CASE("RFC 9111 4.2.2: a Last-Modified after Date gives no heuristic") {
  Resp r(200, {{"Date", date(kNow)}, {"Last-Modified", date(kNow + 10)}});
  const auto d = store(r);
  CHECK(d.freshness.lifetime == 0);
  CHECK_FALSE(d.freshness.heuristic);
}

TEST_CASE("a rule's ttl overrides the backend's freshness") {
  PolicyConfig config;
  config.ttl = 300;
  Resp r(200, {{"Cache-Control", "max-age=5"}, {"Expires", "0"}});
  const auto d = store(r, config);
  REQUIRE(d.store);
  CHECK(d.freshness.lifetime == 300);
  Resp bare(200);
  CHECK(store(bare, config).store);
}

TEST_CASE("RFC 5861 3/4: stale-while-revalidate and stale-if-error come from the response") {
  Resp r(200, {{"Cache-Control", "max-age=60, stale-while-revalidate=30, stale-if-error=600"}});
  const auto d = store(r);
  CHECK(d.freshness.stale_while_revalidate == 30u);
  CHECK(d.freshness.stale_if_error == 600u);
}

TEST_CASE("RFC 5861: the operator's stale defaults apply when the response names none") {
  PolicyConfig config;
  config.stale_while_revalidate = 7;
  config.stale_if_error = 70;
  Resp r(200, {{"Cache-Control", "max-age=60"}});
  const auto d = store(r, config);
  CHECK(d.freshness.stale_while_revalidate == 7u);
  CHECK(d.freshness.stale_if_error == 70u);
}

TEST_CASE("RFC 9111 4.2.4: no stale serving with must-revalidate, proxy-revalidate or no-cache") {
  for (const char* v :
       {"max-age=60, must-revalidate, stale-while-revalidate=30",
        "max-age=60, proxy-revalidate, stale-if-error=30", "no-cache, stale-while-revalidate=30"}) {
    CAPTURE(v);
    Resp r(200, {{"Cache-Control", v}, {"ETag", "\"e\""}});
    const auto d = store(r);
    REQUIRE(d.store);
    CHECK(d.freshness.stale_while_revalidate == 0u);
    CHECK(d.freshness.stale_if_error == 0u);
  }
}

TEST_CASE("RFC 9111 5.2.2.10: s-maxage forbids the default stale serving, not an explicit one") {
  Resp plain(200, {{"Cache-Control", "s-maxage=60"}});
  CHECK(store(plain).freshness.stale_while_revalidate == 0u);
  CHECK(store(plain).freshness.stale_if_error == 0u);
  Resp explicit_swr(200, {{"Cache-Control", "s-maxage=60, stale-while-revalidate=5"}});
  CHECK(store(explicit_swr).freshness.stale_while_revalidate == 5u);
}

TEST_CASE("RFC 9111 4.2.1: the must_revalidate flag follows must-revalidate and proxy-revalidate") {
  Resp mr(200, {{"Cache-Control", "max-age=60, must-revalidate"}});
  CHECK(store(mr).freshness.must_revalidate);
  Resp pr(200, {{"Cache-Control", "max-age=60, proxy-revalidate"}});
  CHECK(store(pr).freshness.must_revalidate);
  Resp none(200, {{"Cache-Control", "max-age=60"}});
  CHECK_FALSE(store(none).freshness.must_revalidate);
}
