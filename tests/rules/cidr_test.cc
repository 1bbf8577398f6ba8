// SPDX-License-Identifier: MIT
#include "rules/cidr.h"

#include <doctest/doctest.h>

#include <string>

#include "rules/rule_set.h"
#include "tests/rules/request.h"

namespace rules {
namespace {

using test::Address;

bool contains(const char* cidr, const char* address) {
  auto c = Cidr::parse(cidr);
  REQUIRE_MESSAGE(c.has_value(), cidr);
  return c->contains(Address::parse(address).get());
}

TEST_CASE("an IPv4 block holds exactly the addresses under its prefix") {
  CHECK(contains("10.20.0.0/16", "10.20.0.1"));
  CHECK(contains("10.20.0.0/16", "10.20.255.255"));
  CHECK_FALSE(contains("10.20.0.0/16", "10.21.0.0"));
  CHECK(contains("10.20.0.0/12", "10.31.1.1"));
  CHECK_FALSE(contains("10.20.0.0/12", "10.32.0.0"));
  CHECK(contains("0.0.0.0/0", "203.0.113.9"));
  CHECK(contains("192.0.2.7", "192.0.2.7"));
  CHECK_FALSE(contains("192.0.2.7", "192.0.2.8"));
}

TEST_CASE("host bits set past the prefix are ignored") {
  CHECK(contains("10.20.3.4/16", "10.20.9.9"));
  CHECK(contains("fd00:20::1/48", "fd00:20:0:ffff::1"));
}

TEST_CASE("an IPv6 block holds exactly the addresses under its prefix") {
  CHECK(contains("fd00:20::/48", "fd00:20::1"));
  CHECK(contains("fd00:20::/48", "fd00:20:0:ffff::1"));
  CHECK_FALSE(contains("fd00:20::/48", "fd00:21::1"));
  CHECK(contains("2001:db8::/33", "2001:db8:7fff::1"));
  CHECK_FALSE(contains("2001:db8::/33", "2001:db8:8000::1"));
  CHECK(contains("::/0", "2001:db8::1"));
  CHECK(contains("2001:db8::1", "2001:db8::1"));
  CHECK_FALSE(contains("2001:db8::1", "2001:db8::2"));
}

TEST_CASE("an IPv4-mapped IPv6 client is matched against IPv4 blocks") {
  CHECK(contains("10.20.0.0/16", "::ffff:10.20.1.2"));
  CHECK_FALSE(contains("10.20.0.0/16", "::ffff:10.21.1.2"));
  CHECK(contains("::ffff:10.20.0.0/112", "10.20.1.2"));
  CHECK(contains("::ffff:10.20.0.0/112", "::ffff:10.20.1.2"));
}

TEST_CASE("IPv4 and IPv6 blocks never hold an address of the other family") {
  CHECK_FALSE(contains("0.0.0.0/0", "2001:db8::1"));
  CHECK_FALSE(contains("::/0", "10.0.0.1"));
  CHECK_FALSE(contains("::/0", "::ffff:10.0.0.1"));
}

TEST_CASE("no block holds a null or non-IP address") {
  auto any = Cidr::parse("0.0.0.0/0");
  REQUIRE(any.has_value());
  CHECK_FALSE(any->contains(nullptr));
  CHECK_FALSE(any->contains(Address::parse("unix").get()));
}

TEST_CASE("malformed blocks do not parse") {
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8",
        "fd00::/129", "fd00::/ 48", "example.org/24", "10.0.0.0/8/8", "10.0.0.0 /8"}) {
    CHECK_MESSAGE(!Cidr::parse(bad).has_value(), '"' << bad << '"');
  }
}

TEST_CASE("a source key routes clients from any listed network") {
  conf::RuleMatch m;
  m.source = {"10.20.0.0/16", "fd00:20::/48"};
  auto cfg = test::config({test::rule("ci-network", m), test::rule("default")});
  auto set = RuleSet::compile(cfg);
  REQUIRE(set.has_value());
  auto routed_by = [&](const test::Request& req) { return (*set)->match(req.view())->name; };

  CHECK(routed_by(test::Request{}.from("10.20.4.5")) == "ci-network");
  CHECK(routed_by(test::Request{}.from("::ffff:10.20.4.5")) == "ci-network");
  CHECK(routed_by(test::Request{}.from("fd00:20:0:1::9")) == "ci-network");
  CHECK(routed_by(test::Request{}.from("10.21.4.5")) == "default");
  CHECK(routed_by(test::Request{}.from("fd00:21::9")) == "default");

  test::Request unknown;
  unknown.has_source = false;
  CHECK(routed_by(unknown) == "default");
}

}  // namespace
}  // namespace rules
