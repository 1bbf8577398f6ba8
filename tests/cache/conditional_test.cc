// SPDX-License-Identifier: MIT
// RFC 9110 13.2.2 (via RFC 9111 4.3.2): a client's conditional request against a stored response.
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;
using proxy::http::Method;

namespace {

const std::string kLastModified = date(kNow - 1000);

Precondition eval(Fields request, Fields stored_fields, Method m = Method::kGet) {
  Req req(request, m);
  Headers stored(stored_fields);
  return evaluate_preconditions(req.head, stored.list);
}

Precondition eval(Fields request) {
  return eval(request,
              {{"ETag", "\"v1\""}, {"Last-Modified", kLastModified}, {"Date", date(kNow)}});
}

}  // namespace

TEST_CASE("RFC 9110 13.2.2: no precondition serves the response") {
  CHECK(eval({}) == Precondition::kServe);
}

TEST_CASE("RFC 9110 13.1.2: If-None-Match with the stored ETag is answered 304") {
  CHECK(eval({{"If-None-Match", "\"v1\""}}) == Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "\"v0\", \"v1\""}}) == Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "\"v0\""}, {"If-None-Match", "\"v1\""}}) ==
        Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "\"v2\""}}) == Precondition::kServe);
}

TEST_CASE("RFC 9110 13.1.2: If-None-Match uses the weak comparison") {
  CHECK(eval({{"If-None-Match", "W/\"v1\""}}) == Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "\"w\""}}, {{"ETag", "W/\"w\""}}) == Precondition::kNotModified);
}

TEST_CASE("RFC 9110 13.1.2: If-None-Match: * matches any stored response") {
  CHECK(eval({{"If-None-Match", "*"}}) == Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "*"}}, {{"Date", date(kNow)}}) == Precondition::kNotModified);
}

TEST_CASE("RFC 9110 13.1.2: a stored response without ETag never matches a tag list") {
  CHECK(eval({{"If-None-Match", "\"v1\""}}, {{"Last-Modified", kLastModified}}) ==
        Precondition::kServe);
}

TEST_CASE("RFC 9110 13.1.3: If-Modified-Since is answered 304 when not modified since") {
  CHECK(eval({{"If-Modified-Since", kLastModified}}) == Precondition::kNotModified);
  CHECK(eval({{"If-Modified-Since", date(kNow)}}) == Precondition::kNotModified);
  CHECK(eval({{"If-Modified-Since", date(kNow - 2000)}}) == Precondition::kServe);
}

TEST_CASE("RFC 9110 13.1.3: If-Modified-Since falls back to Date without Last-Modified") {
  CHECK(eval({{"If-Modified-Since", date(kNow)}}, {{"Date", date(kNow - 10)}}) ==
        Precondition::kNotModified);
  CHECK(eval({{"If-Modified-Since", date(kNow - 20)}}, {{"Date", date(kNow - 10)}}) ==
        Precondition::kServe);
  CHECK(eval({{"If-Modified-Since", date(kNow)}}, {{"ETag", "\"a\""}}) == Precondition::kServe);
}

TEST_CASE("RFC 9110 13.1.3: an invalid If-Modified-Since is ignored") {
  CHECK(eval({{"If-Modified-Since", "yesterday"}}) == Precondition::kServe);
  CHECK(eval({{"If-Modified-Since", kLastModified}, {"If-Modified-Since", kLastModified}}) ==
        Precondition::kServe);
}

TEST_CASE("RFC 9110 13.2.2: If-None-Match takes precedence over If-Modified-Since") {
  CHECK(eval({{"If-None-Match", "\"other\""}, {"If-Modified-Since", date(kNow)}}) ==
        Precondition::kServe);
  CHECK(eval({{"If-None-Match", "\"v1\""}, {"If-Modified-Since", date(kNow - 5000)}}) ==
        Precondition::kNotModified);
}

TEST_CASE("RFC 9110 13.1.1: If-Match needs a strong match, else 412") {
  CHECK(eval({{"If-Match", "\"v1\""}}) == Precondition::kServe);
  CHECK(eval({{"If-Match", "\"v0\", \"v1\""}}) == Precondition::kServe);
  CHECK(eval({{"If-Match", "*"}}) == Precondition::kServe);
  CHECK(eval({{"If-Match", "\"v2\""}}) == Precondition::kFailed);
  CHECK(eval({{"If-Match", "W/\"v1\""}}) == Precondition::kFailed);
  CHECK(eval({{"If-Match", "\"w\""}}, {{"ETag", "W/\"w\""}}) == Precondition::kFailed);
}

TEST_CASE("RFC 9110 13.1.4: If-Unmodified-Since fails when modified after the date") {
  CHECK(eval({{"If-Unmodified-Since", date(kNow - 2000)}}) == Precondition::kFailed);
  CHECK(eval({{"If-Unmodified-Since", kLastModified}}) == Precondition::kServe);
  CHECK(eval({{"If-Unmodified-Since", "garbage"}}) == Precondition::kServe);
}

TEST_CASE("RFC 9110 13.2.2: If-Match is evaluated before If-None-Match, and skips IUS") {
  CHECK(eval({{"If-Match", "\"v2\""}, {"If-None-Match", "\"v1\""}}) == Precondition::kFailed);
  CHECK(eval({{"If-Match", "\"v1\""}, {"If-Unmodified-Since", date(kNow - 2000)}}) ==
        Precondition::kServe);
  CHECK(eval({{"If-Match", "\"v1\""}, {"If-None-Match", "\"v1\""}}) == Precondition::kNotModified);
}

TEST_CASE("RFC 9110 13.2.1: preconditions are evaluated for GET and HEAD only") {
  CHECK(eval({{"If-None-Match", "\"v1\""}}, {{"ETag", "\"v1\""}}, Method::kHead) ==
        Precondition::kNotModified);
  CHECK(eval({{"If-None-Match", "\"v1\""}}, {{"ETag", "\"v1\""}}, Method::kPost) ==
        Precondition::kServe);
}
