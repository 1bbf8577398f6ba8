// SPDX-License-Identifier: MIT
#include "cache/cache_control.h"

#include <doctest/doctest.h>

#include <deque>

#include "tests/cache/messages.h"

using cache::Directives;
using cache::test::Headers;

namespace {
Directives cc(std::string value) {
  Headers h({{"Cache-Control", std::move(value)}});
  return cache::parse_cache_control(h.list);
}
}  // namespace

TEST_CASE("RFC 9111 5.2: directives and their delta-seconds arguments are read") {
  const Directives d =
      cc("public, max-age=60, s-maxage=120, stale-while-revalidate=5, "
         "stale-if-error=30, must-revalidate, proxy-revalidate, no-transform, "
         "immutable, must-understand");
  CHECK(d.any);
  CHECK(d.public_);
  CHECK(d.max_age == 60u);
  CHECK(d.s_maxage == 120u);
  CHECK(d.stale_while_revalidate == 5u);
  CHECK(d.stale_if_error == 30u);
  CHECK(d.must_revalidate);
  CHECK(d.proxy_revalidate);
  CHECK(d.no_transform);
  CHECK(d.immutable);
  CHECK(d.must_understand);
  CHECK_FALSE(d.no_store);
  CHECK_FALSE(d.max_age_invalid);
}

TEST_CASE("RFC 9111 5.2: directive names are case-insensitive") {
  const Directives d = cc("No-Store, MAX-AGE=5");
  CHECK(d.no_store);
  CHECK(d.max_age == 5u);
}

TEST_CASE("RFC 9111 5.2: the directives of every Cache-Control line are combined") {
  Headers h({{"Cache-Control", "no-cache"},
             {"Content-Type", "text/plain"},
             {"cache-control", "max-age=3"}});
  const Directives d = cache::parse_cache_control(h.list);
  CHECK(d.no_cache);
  CHECK(d.max_age == 3u);
}

TEST_CASE("RFC 9111 5.2: no field, or an empty one, has no directive") {
  Headers none;
  CHECK_FALSE(cache::parse_cache_control(none.list).any);
  CHECK_FALSE(cc("").any);
  CHECK_FALSE(cc(" , ,").any);
}

TEST_CASE("RFC 9111 5.2: a quoted-string argument is accepted for max-age") {
  CHECK(cc("max-age=\"3600\"").max_age == 3600u);
}

TEST_CASE("RFC 9111 5.2: a directive inside a quoted-string is not a directive") {
  const Directives d = cc("extension=\"max-age=3600, no-store\", max-age=1");
  CHECK(d.max_age == 1u);
  CHECK_FALSE(d.no_store);
  CHECK_FALSE(d.max_age_invalid);
  const Directives rev = cc("max-age=1, extension=\"max-age=3600\"");
  CHECK(rev.max_age == 1u);
  CHECK_FALSE(rev.max_age_invalid);
}

TEST_CASE("RFC 9111 1.2.2: delta-seconds keep leading zeros and saturate at 2^31") {
  CHECK(cc("max-age=003600").max_age == 3600u);
  CHECK(cc("max-age=2147483648").max_age == 2147483648u);
  CHECK(cc("max-age=99999999999999999999").max_age == 2147483648u);
  CHECK(cc("max-age=0").max_age == 0u);
}

TEST_CASE("RFC 9111 4.2.1: an invalid max-age makes the response stale, not fresh") {
  for (const char* v : {"max-age=-1", "max-age=3600.0", "max-age=3600.5", "max-age=a3600",
                        "max-age=3600a", "max-age='3600'", "max-age =3600", "max-age= 3600",
                        "max-age", "max-age=", "max-age=\"36 00\""}) {
    CAPTURE(v);
    const Directives d = cc(v);
    CHECK(d.max_age_invalid);
  }
}

TEST_CASE("RFC 9111 4.2.1: a max-age given twice with different values makes it invalid") {
  CHECK(cc("max-age=1800, max-age=1").max_age_invalid);
  Headers h({{"Cache-Control", "max-age=1"}, {"Cache-Control", "max-age=1800"}});
  CHECK(cache::parse_cache_control(h.list).max_age_invalid);
  CHECK_FALSE(cc("max-age=5, max-age=5").max_age_invalid);
  CHECK(cc("s-maxage=5, s-maxage=6").s_maxage_invalid);
}

TEST_CASE("RFC 9111 5.2.2.4/5.2.2.7: qualified no-cache and private list field names") {
  Headers h({{"Cache-Control", "private=\"Set-Cookie, X-User\", no-cache=\"X-Debug\""}});
  const Directives d = cache::parse_cache_control(h.list);  // its lists are views into |h|
  CHECK_FALSE(d.private_);
  CHECK(d.private_fields);
  CHECK(d.private_list == "Set-Cookie, X-User");
  CHECK_FALSE(d.no_cache);
  CHECK(d.no_cache_fields);
  CHECK(d.no_cache_list == "X-Debug");
  CHECK(cc("private").private_);
  CHECK(cc("no-cache").no_cache);
  CHECK(cc("private=x").private_fields);  // token form accepted too
}

TEST_CASE("RFC 9111 5.2.2.4: a second qualified no-cache falls back to the unqualified meaning") {
  Headers h({{"Cache-Control", "no-cache=\"a\""}, {"Cache-Control", "no-cache=\"b\""}});
  const Directives d = cache::parse_cache_control(h.list);
  CHECK(d.no_cache);
}

TEST_CASE("RFC 9111 5.2.1: request directives: max-stale with and without a value, min-fresh") {
  CHECK(cc("max-stale").max_stale == UINT32_MAX);
  CHECK(cc("max-stale=10").max_stale == 10u);
  CHECK(cc("min-fresh=20").min_fresh == 20u);
  CHECK(cc("only-if-cached").only_if_cached);
  CHECK_FALSE(cc("min-fresh=x").min_fresh);
}

TEST_CASE("RFC 9111 5.2: unknown extensions and broken elements do not hide the others") {
  const Directives d = cc("foo, bar=\"baz, qux\", =oops, no-store, community=\"UCI\"");
  CHECK(d.no_store);
  CHECK(d.any);
}

TEST_CASE("RFC 9111 5.2: an unterminated quoted-string ends the field") {
  const Directives d = cc("max-age=\"60, no-store");
  CHECK(d.max_age_invalid);
  CHECK_FALSE(d.no_store);
}

TEST_CASE("RFC 9213 2: the targeted field is parsed with the same syntax") {
  Headers h({{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=600"}});
  const Directives d = cache::parse_cache_control(h.list, "cdn-cache-control");
  CHECK(d.max_age == 600u);
  CHECK_FALSE(d.no_store);
}

namespace {
Directives targeted(std::initializer_list<std::string> lines) {
  static std::deque<Headers> keep;  // the Directives' views point into these
  Headers& h = keep.emplace_back();
  for (const auto& l : lines) h.text.add(h.list, "CDN-Cache-Control", l);
  return cache::parse_targeted_cache_control(h.list, "cdn-cache-control");
}
}  // namespace

TEST_CASE("RFC 9213 2.1: the targeted field is a Structured Fields Dictionary of directives") {
  const Directives d = targeted({"max-age=600, stale-if-error=30, must-revalidate, no-store=?0"});
  CHECK(d.any);
  CHECK(d.max_age == 600u);
  CHECK(d.stale_if_error == 30u);
  CHECK(d.must_revalidate);
  CHECK_FALSE(d.no_store);
  CHECK(targeted({"private"}).private_);
  CHECK(targeted({"no-store=?1"}).no_store);
  CHECK(targeted({"max-age=3600", "no-cache"}).no_cache);
}

TEST_CASE("RFC 9213 2.1: a targeted max-age saturates at 2^31") {
  CHECK(targeted({"max-age=2147483648"}).max_age == 2147483648u);
  CHECK(targeted({"max-age=99999999999"}).max_age == 2147483648u);
}

TEST_CASE("RFC 9213 2.1: an extension directive is valid and does not hide the others") {
  const Directives d = targeted({"foobar, max-age=3600"});
  CHECK(d.any);
  CHECK(d.max_age == 3600u);
  CHECK(targeted({"foo;bar=1;baz, x=(a b \"c\");p=?0, y=:aGk=:, z=1.5"}).any);
}

TEST_CASE("RFC 9213 2.1: an invalid Structured Field is ignored as a whole") {
  for (const char* v : {"max-age=10000, &&&&&", "Max-Age=60", "max-age =60", "max-age= 60",
                        "max-age=60,", "max-age=\"60", "max-age=1234567890123456", "a=1.2345",
                        "a=(1 2", "a=?2", ", max-age=5", "max-age=5;", "a=:!:"}) {
    CAPTURE(v);
    const Directives d = targeted({v});
    CHECK_FALSE(d.any);
    CHECK_FALSE(d.max_age);
  }
  const Directives two = targeted({"no-store", "&&"});
  CHECK_FALSE(two.any);
  CHECK_FALSE(two.no_store);
}

TEST_CASE("RFC 9213 2.1: directives of the wrong type are ignored") {
  CHECK_FALSE(targeted({"max-age=\"10000\""}).any);
  CHECK_FALSE(targeted({"max-age=-5"}).any);
  CHECK_FALSE(targeted({"max-age=1.5"}).any);
  CHECK_FALSE(targeted({"no-store=1"}).any);
  const Directives d = targeted({"max-age=\"10000\", public"});
  CHECK(d.any);
  CHECK_FALSE(d.max_age);
  CHECK_FALSE(d.max_age_invalid);
}

TEST_CASE("RFC 9213 2.1: an empty or absent targeted field has no directive") {
  CHECK_FALSE(targeted({}).any);
  CHECK_FALSE(targeted({""}).any);
}
