// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "proxy/base/expected.h"

namespace proxy::io {

// A resolved address: "host:port", "[v6]:port" or "unix:/path".
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // as configured

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Resolves an address (host names through getaddrinfo: call at startup, never per request).
base::Expected<SocketAddress, std::string> resolve_address(std::string_view text);

// "127.0.0.1:8080", "[::1]:8080", "unix:/path" for a bound or peer address.
std::string format_address(const sockaddr* sa, socklen_t len);

// The client IP as text for X-Forwarded-For and logs; IPv4-mapped IPv6 is shown as IPv4. Writes
// into buf (at least 64 bytes) and returns the length.
size_t format_ip(const sockaddr* sa, char* buf, size_t cap);

}  // namespace proxy::io
