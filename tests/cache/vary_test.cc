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

TEST_CASE("RFC 9110 12.5.3: Accept-Encoding is reduced to the set of codings it accepts") {
  const std::string ae = "accept-encoding";
  CHECK(values(ae, {{"Accept-Encoding", "gzip, deflate, br"}}) == "br,deflate,gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=1.0, gzip;q=0.8"}}) == "br,gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip;q=1, br;q=0.5"}}) == "br,gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip, deflate"}}) == "deflate,gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "x-gzip"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "GZIP"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "zstd, br"}}) == "br,zstd\n");
  CHECK(values(ae, {{"Accept-Encoding", "*"}}) == "br,deflate,gzip,zstd\n");
  CHECK(values(ae, {{"Accept-Encoding", "*;q=0.5, br;q=0"}}) == "deflate,gzip,zstd\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=0, gzip;q=0"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "identity"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "compress"}}) == "\n");
  CHECK(values(ae, {}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "gzip"}, {"Accept-Encoding", "br"}}) == "br,gzip\n");
}

TEST_CASE("RFC 9111 4.1: requests a gzip-only backend answers differently have different keys") {
  const std::string ae = "accept-encoding";
  // "gzip, br" gets gzip from such a backend, "br" gets identity: they must not share a variant.
  CHECK(values(ae, {{"Accept-Encoding", "gzip, br"}}) != values(ae, {{"Accept-Encoding", "br"}}));
  CHECK(values(ae, {{"Accept-Encoding", "gzip, br"}}) ==
        values(ae, {{"Accept-Encoding", "br,  gzip"}}));
}

TEST_CASE("cache.compress: the identity key ignores the request's Accept-Encoding") {
  std::string out;
  Headers h({{"Accept-Encoding", "br"}, {"Accept-Language", "en"}});
  vary_values("accept-encoding,accept-language", h.list, out, true);
  CHECK(out == "\nen\n");
}

TEST_CASE("cache.compress: accept-encoding joins the vary names in order") {
  std::string names = "accept-language,origin";
  add_vary_accept_encoding(names);
  CHECK(names == "accept-encoding,accept-language,origin");
  add_vary_accept_encoding(names);
  CHECK(names == "accept-encoding,accept-language,origin");
  std::string none;
  add_vary_accept_encoding(none);
  CHECK(none == "accept-encoding");
}

TEST_CASE("RFC 9110 12.4.2: a malformed qvalue makes the coding unacceptable") {
  const std::string ae = "accept-encoding";
  CHECK(values(ae, {{"Accept-Encoding", "br;q=2, gzip"}}) == "gzip\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=abc"}}) == "\n");
  CHECK(values(ae, {{"Accept-Encoding", "br;q=0.001"}}) == "br\n");
}

TEST_CASE("RFC 9111 4.1: a Vary naming more fields than gatehouse compares never matches") {
  Headers h;
  for (int i = 0; i < 33; ++i) h.text.add(h.list, "Vary", "X-F" + std::to_string(i));
  std::string names;
  CHECK_FALSE(vary_names(h.list, names));
  Headers ok;
  for (int i = 0; i < 32; ++i) ok.text.add(ok.list, "Vary", "X-F" + std::to_string(i));
  CHECK(vary_names(ok.list, names));
}
