// SPDX-License-Identifier: MIT
#include "conf/address.h"

#include <doctest/doctest.h>

using namespace conf;

TEST_CASE("listen addresses are IP literals with a port, or unix sockets") {
  auto a = parse_address("0.0.0.0:80", AddressUse::kListen);
  REQUIRE(a);
  CHECK(a->host == "0.0.0.0");
  CHECK(a->port == 80);
  CHECK_FALSE(a->ipv6);

  auto v6 = parse_address("[::1]:8443", AddressUse::kListen);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->ipv6);
  CHECK(v6->port == 8443);

  auto u = parse_address("unix:/run/gatehouse.sock", AddressUse::kListen);
  REQUIRE(u);
  CHECK(u->kind == Address::Kind::kUnix);
  CHECK(u->path == "/run/gatehouse.sock");
}

TEST_CASE("port 0 may be listened on but not connected to") {
  CHECK(parse_address("127.0.0.1:0", AddressUse::kListen));
  CHECK_FALSE(parse_address("127.0.0.1:0", AddressUse::kConnect));
  CHECK(parse_address("127.0.0.1:65535", AddressUse::kConnect));
  CHECK_FALSE(parse_address("127.0.0.1:65536", AddressUse::kListen));
}

TEST_CASE("host names are for backends only") {
  CHECK(parse_address("app.internal:8080", AddressUse::kConnect));
  auto a = parse_address("localhost:8080", AddressUse::kListen);
  REQUIRE_FALSE(a);
  CHECK(a.error().find("binds an IP address") != std::string::npos);
}

TEST_CASE("malformed addresses are refused with the reason") {
  auto why = [](const char* text) { return parse_address(text, AddressUse::kConnect).error(); };
  CHECK(why("127.0.0.1").ends_with("missing \":port\""));
  CHECK(why("::1:80").ends_with("an IPv6 address needs brackets, as in [::1]:80"));
  CHECK(why("[::1]").ends_with("missing \":port\""));
  CHECK(why("[::g]:80").ends_with("not an IPv6 address"));
  CHECK(why("[::1:80").ends_with("missing \"]\""));
  CHECK(why("256.1.1.1:80").ends_with("not an IPv4 address"));
  CHECK(why(":80").ends_with("missing host"));
  CHECK(why("a_b:80").ends_with("not an IP address or host name"));
  CHECK(why("host:http").ends_with("the port must be a number from 1 to 65535"));
  CHECK(why("host:").ends_with("the port must be a number from 1 to 65535"));
  CHECK(why("unix:run/x.sock").ends_with("a unix socket path must be absolute"));
  CHECK(why(("unix:/" + std::string(120, 'x')).c_str()).find("shorter than") != std::string::npos);
}

TEST_CASE("CIDR blocks take IPv4 and IPv6, with or without a prefix length") {
  CHECK(check_cidr("10.20.0.0/16"));
  CHECK_FALSE(*check_cidr("10.20.0.0/16"));
  CHECK(check_cidr("fd00:20::/48"));
  CHECK(check_cidr("192.168.1.1"));
  CHECK(check_cidr("::1"));
  CHECK(check_cidr("0.0.0.0/0"));
  CHECK(check_cidr("::/0"));
}

TEST_CASE("a CIDR block with host bits set is accepted and flagged") {
  CHECK(*check_cidr("10.20.0.1/16"));
  CHECK(*check_cidr("fd00:20::1/48"));
  CHECK_FALSE(*check_cidr("10.20.0.1/32"));
}

TEST_CASE("bad CIDR blocks are refused") {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x",
                          "example.org/8", "", "10.0.0.0/-1"})
    CHECK_MESSAGE(!check_cidr(bad), bad);
  CHECK(check_cidr("10.0.0.0/33").error().ends_with("a number from 0 to 32"));
}

TEST_CASE("header names are RFC 9110 tokens") {
  CHECK(is_token("X-Cache"));
  CHECK(is_token("CDN-Cache-Control"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("X Cache"));
  CHECK_FALSE(is_token("X-Cache:"));
}
