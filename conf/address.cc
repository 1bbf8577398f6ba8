// SPDX-License-Identifier: MIT
#include "conf/address.h"
#include "conf/quote.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <cstring>

namespace conf {
namespace {

using proxy::base::unexpected;

constexpr std::string_view kForms = "host:port, [v6]:port or unix:/path";

bool is_ip(std::string_view s, int family, unsigned char* out) {
  unsigned char buf[16];
  std::string z(s);
  return inet_pton(family, z.c_str(), out ? out : buf) == 1;
}

bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  char prev = '.';
  for (char c : s) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return prev != '-';
}

bool all_digits_and_dots(std::string_view s) {
  return s.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (!std::strchr("!#$%&'*+-.^_`|~", c) || c == 0) return false;
  }
  return true;
}

Parsed<Address> parse_address(std::string_view text, AddressUse use) {
  const std::string got = std::string(kForms) + ", got " + quoted(text);
  Address a;
  if (text.starts_with("unix:")) {
    a.kind = Address::Kind::kUnix;
    a.path = std::string(text.substr(5));
    if (!a.path.starts_with("/")) return unexpected(got + ": a unix socket path must be absolute");
    if (a.path.size() >= sizeof(sockaddr_un{}.sun_path))
      return unexpected(got + ": a unix socket path must be shorter than " +
                        std::to_string(sizeof(sockaddr_un{}.sun_path)) + " bytes");
    return a;
  }
  std::string_view host, port;
  if (text.starts_with("[")) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return unexpected(got + ": missing \"]\"");
    host = text.substr(1, close - 1);
    if (!is_ip(host, AF_INET6, nullptr)) return unexpected(got + ": not an IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return unexpected(got + ": missing \":port\"");
    port = text.substr(close + 2);
    a.ipv6 = a.numeric = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return unexpected(got + ": missing \":port\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return unexpected(got + ": an IPv6 address needs brackets, as in [::1]:80");
    if (host.empty()) return unexpected(got + ": missing host");
    if (is_ip(host, AF_INET, nullptr)) {
      a.numeric = true;
    } else if (all_digits_and_dots(host)) {
      return unexpected(got + ": not an IPv4 address");
    } else if (!is_dns_name(host)) {
      return unexpected(got + ": not an IP address or host name");
    } else if (use == AddressUse::kListen) {
      return unexpected(got + ": a listener binds an IP address, not a host name " +
                        "(use 127.0.0.1, 0.0.0.0, [::1] or [::])");
    }
  }
  auto n = parse_uint(port);
  if (port.empty() || !n || *n > 65535)
    return unexpected(got + ": the port must be a number from " +
                      (use == AddressUse::kListen ? "0" : "1") + " to 65535");
  if (*n == 0 && use == AddressUse::kConnect)
    return unexpected(got + ": the port must be a number from 1 to 65535");
  a.host = std::string(host);
  a.port = static_cast<uint16_t>(*n);
  return a;
}

Parsed<bool> check_cidr(std::string_view text) {
  const std::string got = "a CIDR block like 10.0.0.0/8 or fd00::/16, got " + quoted(text);
  auto slash = text.find('/');
  auto addr = text.substr(0, slash);
  unsigned char bytes[16] = {};
  int bits_max = 0;
  if (is_ip(addr, AF_INET, bytes))
    bits_max = 32;
  else if (is_ip(addr, AF_INET6, bytes))
    bits_max = 128;
  else
    return unexpected(got + ": not an IPv4 or IPv6 address");
  if (slash == std::string_view::npos) return false;
  auto n = parse_uint(text.substr(slash + 1));
  if (text.size() == slash + 1 || !n || *n > static_cast<uint64_t>(bits_max))
    return unexpected(got + ": the prefix length must be a number from 0 to " +
                      std::to_string(bits_max));
  for (int bit = static_cast<int>(*n); bit < bits_max; ++bit)
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
  return false;
}

}  // namespace conf
