// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rules {

// An IPv4 or IPv6 address block, as written in a rule's `source` list.
class Cidr {
 public:
  // Parses "a.b.c.d/N", "v6addr/N" or a bare address (a block of one). Host bits beyond the prefix
  // are ignored. A block inside ::ffff:0:0/96 is held as the IPv4 block it maps. Returns nullopt
  // if the text is not one of these forms or N is out of range.
  static std::optional<Cidr> parse(std::string_view text);

  // True if |addr| lies in this block. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is tested as
  // the IPv4 address it carries. Null or any family but AF_INET/AF_INET6 is never contained.
  bool contains(const sockaddr* addr) const;

 private:
  Cidr() = default;

  bool v6_ = false;
  uint8_t prefix_bits_ = 0;
  std::array<uint8_t, 16> bytes_{};  // network order; IPv4 uses the first 4
};

}  // namespace rules
