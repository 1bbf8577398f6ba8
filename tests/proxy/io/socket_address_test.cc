// SPDX-License-Identifier: MIT
// Address resolution for listeners and backends, and addresses as text.
#include "proxy/io/socket_address.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

using proxy::io::format_address;
using proxy::io::format_ip;
using proxy::io::resolve_address;

namespace {

sockaddr_in v4(const char* ip, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, ip, &sin.sin_addr) == 1);
  return sin;
}

sockaddr_in6 v6(const char* ip, uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1);
  return sin6;
}

template <class T>
const sockaddr* sa(const T& s) {
  return reinterpret_cast<const sockaddr*>(&s);
}

std::string ip_text(const sockaddr* s) {
  char buf[64];
  size_t n = format_ip(s, buf, sizeof buf);
  CHECK(n == std::strlen(buf));
  return std::string(buf, n);
}

}  // namespace

TEST_CASE("an IPv4 host:port resolves to that address and port") {
  auto a = resolve_address("127.0.0.1:80");
  REQUIRE(a);
  CHECK(a->family() == AF_INET);
  CHECK(a->length == sizeof(sockaddr_in));
  CHECK(a->text == "127.0.0.1:80");
  const auto* sin = reinterpret_cast<const sockaddr_in*>(a->get());
  CHECK(ntohs(sin->sin_port) == 80);
  CHECK(ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
}

TEST_CASE("a bracketed IPv6 [v6]:port resolves to that address and port") {
  auto a = resolve_address("[::1]:8080");
  REQUIRE(a);
  CHECK(a->family() == AF_INET6);
  CHECK(a->length == sizeof(sockaddr_in6));
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->get());
  CHECK(ntohs(sin6->sin6_port) == 8080);
  CHECK(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
  CHECK(format_address(a->get(), a->length) == "[::1]:8080");
}

TEST_CASE("unix:/path resolves to a UNIX socket address of that path") {
  auto a = resolve_address("unix:/tmp/x.sock");
  REQUIRE(a);
  CHECK(a->family() == AF_UNIX);
  const auto* un = reinterpret_cast<const sockaddr_un*>(a->get());
  CHECK(std::string(un->sun_path) == "/tmp/x.sock");
  CHECK(a->length == offsetof(sockaddr_un, sun_path) + std::strlen("/tmp/x.sock") + 1);
  CHECK(format_address(a->get(), a->length) == "unix:/tmp/x.sock");
}

TEST_CASE("junk addresses are refused with a message") {
  const std::string too_long = "unix:/" + std::string(sizeof(sockaddr_un::sun_path), 'a');
  for (const std::string& text :
       {std::string(""), std::string("nocolon"), std::string("[::1]"), std::string("[::1]8080"),
        std::string("[::1:80"), std::string("unix:"), too_long, std::string("127.0.0.1:http"),
        std::string("127.0.0.1:-1"), std::string("127.0.0.1:80x")}) {
    CAPTURE(text);
    auto a = resolve_address(text);
    CHECK_FALSE(a);
    if (!a) CHECK_FALSE(a.error().empty());
  }
}

TEST_CASE("an empty or out-of-range port is refused") {
  for (const char* text : {"127.0.0.1:", "[::1]:", "127.0.0.1:99999", "127.0.0.1:65536"}) {
    CAPTURE(text);
    CHECK_FALSE(resolve_address(text));
  }
}

TEST_CASE("format_address writes host:port, [v6]:port and unix:/path") {
  const auto a4 = v4("10.1.2.3", 443);
  CHECK(format_address(sa(a4), sizeof a4) == "10.1.2.3:443");
  const auto a6 = v6("2001:db8::1", 8443);
  CHECK(format_address(sa(a6), sizeof a6) == "[2001:db8::1]:8443");

  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/run/gh.sock");
  CHECK(format_address(sa(un), sizeof un) == "unix:/run/gh.sock");
  // An unnamed UNIX socket (a client that never bound) has no path.
  CHECK(format_address(sa(un), offsetof(sockaddr_un, sun_path)) == "unix:");
}

TEST_CASE("format_address writes an IPv4-mapped address as IPv4 host:port") {
  const auto m = v6("::ffff:10.1.2.3", 80);
  CHECK(format_address(sa(m), sizeof m) == "10.1.2.3:80");
}

TEST_CASE("format_ip writes the bare IP, an IPv4-mapped one as IPv4") {
  const auto a4 = v4("192.0.2.33", 1);
  CHECK(ip_text(sa(a4)) == "192.0.2.33");
  const auto a6 = v6("2001:db8::7", 1);
  CHECK(ip_text(sa(a6)) == "2001:db8::7");
  const auto m = v6("::ffff:192.0.2.33", 1);
  CHECK(ip_text(sa(m)) == "192.0.2.33");
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  CHECK(ip_text(sa(un)) == "unix");
}

TEST_CASE("format_ip writes every IPv4 octet as inet_ntop does") {
  for (const char* ip : {"0.0.0.0", "255.255.255.255", "10.0.100.9", "1.22.199.200", "127.0.0.1"}) {
    const auto a = v4(ip, 1);
    CHECK(ip_text(sa(a)) == ip);
    const auto m = v6((std::string("::ffff:") + ip).c_str(), 1);
    CHECK(ip_text(sa(m)) == ip);
  }
  const auto a = v4("203.0.113.254", 1);
  char small[8];
  CHECK(format_ip(sa(a), small, sizeof small) == 0);  // too small: nothing, not a cut address
  CHECK(small[0] == '\0');
}
