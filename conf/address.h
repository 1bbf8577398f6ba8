// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conf/units.h"

// The address syntaxes of a config file, shared by the loader and by code that binds or connects.
namespace conf {

struct Address {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  std::string host;  // IPv4 literal, IPv6 literal without brackets, or a DNS name
  uint16_t port = 0;
  std::string path;  // for kUnix: absolute
  bool ipv6 = false;
  bool numeric = false;  // host is an IP literal
};

enum class AddressUse {
  kListen,   // an IP literal is required (no name lookup at bind time); port 0 picks a free port
  kConnect,  // a DNS name is allowed; port 0 is refused
};

// Parses "host:port", "[v6]:port" or "unix:/abs/path". On failure the message completes
// "expected ..., got ...".
Parsed<Address> parse_address(std::string_view text, AddressUse use);

// Checks "a.b.c.d/N", "v6/N" or a bare address (a block of one). On success returns whether bits
// past the prefix are set (legal, but usually a typo); on failure the message.
Parsed<bool> check_cidr(std::string_view text);

// True for an RFC 9110 token: the characters allowed in header names and methods.
bool is_token(std::string_view s);

}  // namespace conf
