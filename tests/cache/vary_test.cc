// SPDX-License-Identifier: MIT
// RFC 9111 4.1: the secondary key.
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;

namespace {

std::string names_of(Fields resp) {
  Headers h(resp);
  std::string names;
  REQUIRE(vary_names(h.list, names));
  return names;
}

std::string values(std::string_view names, Fields req) {
  Headers h(req);
  std::string out;
  vary_values(names, h.list, out);
  return out;
}

}  // namespace

TEST_CASE("RFC 9111 4.1: Vary names are lowercased, combined over lines, sorted, unique") {
  CHECK(names_of({}) == "");
  CHECK(names_of({{"Vary", "Accept-Language"}}) == "accept-language");
  CHECK(names_of({{"Vary", "User-Agent, accept-language"}, {"vary", "Accept-Language, Foo"}}) ==
        "accept-language,foo,user-agent");
}

TEST_CASE("RFC 9111 4.1: Vary: * never matches") {
  Headers h({{"Vary", "Accept"}, {"Vary", "*"}});
  std::string names;
  CHECK_FALSE(vary_names(h.list, names));
}

TEST_CASE("RFC 9111 4.1: requests with equal values select the same variant") {
  CHECK(values("accept-language", {{"Accept-Language", "en"}}) ==
        values("accept-language", {{"accept-language", "en"}}));
  CHECK(values("accept-language", {{"Accept-Language", "en"}}) !=
        values("accept-language", {{"Accept-Language", "fr"}}));
}

TEST_CASE("RFC 9111 4.1: whitespace and line splits do not change the value") {
  const auto one = values("foo", {{"Foo", "a, b,c"}});
  CHECK(values("foo", {{"Foo", "a,b , c"}}) == one);
  CHECK(values("foo", {{"Foo", "a"}, {"Foo", "b,  c"}}) == one);
  CHECK(values("foo", {{"Foo", "a b"}}) == values("foo", {{"Foo", "a   b"}}));
  CHECK(values("foo", {{"Foo", "a b"}}) != values("foo", {{"Foo", "ab"}}));
}

TEST_CASE("RFC 9111 4.1: a field absent from both requests matches; absent is not empty") {
  CHECK(values("foo", {}) == values("foo", {{"Bar", "1"}}));
  CHECK(values("foo", {}) != values("foo", {{"Foo", ""}}));
  CHECK(values("foo", {}) != values("foo", {{"Foo", "1"}}));
}

TEST_CASE("RFC 9111 4.1: every named field takes part, in order") {
  const std::string names = "accept-language,foo";
  CHECK(values(names, {{"Accept-Language", "en"}, {"Foo", "1"}}) ==
        values(names, {{"Foo", "1"}, {"Accept-Language", "en"}}));
  CHECK(values(names, {{"Accept-Language", "en"}, {"Foo", "1"}}) !=
        values(names, {{"Accept-Language", "en"}, {"Foo", "2"}}));
  CHECK(values(names, {{"Accept-Language", "en,1"}}) !=
        values(names, {{"Accept-Language", "en"}, {"Foo", "1"}}));
}

TEST_CASE("RFC 9110 12.5.3: Accept-Encoding is reduced to the coding gatehouse would choose") {
  const std::string ae = "accept-encoding";
  CHECK(values(ae, {{"Accept-Encoding", "gzip, deflate, br"}}) == "br\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=1.0, gzip;q=0.8"}}) == "br\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip, deflate"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip;q=1, br;q=0.5"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "x-gzip"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "GZIP"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "*"}}) == "br\n");
  CHECK(values(ae, {{"Accept-Encoding", "*;q=0.5, br;q=0"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=0, gzip;q=0"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "identity"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "deflate"}}) == "\n");
  CHECK(values(ae, {}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip"}, {"Accept-Encoding", "br"}}) == "br\n");
}

TEST_CASE("RFC 9110 12.4.2: a malformed qvalue makes the coding unacceptable") {
  const std::string ae = "accept-encoding";
  CHECK(values(ae, {{"Accept-Encoding", "br;q=2, gzip"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=abc"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=0.001"}}) == "br\n");
}
