// SPDX-License-Identifier: MIT
#include "rules/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace rules {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const uint8_t* b16) {
  return std::memcmp(b16, kMappedPrefix, 12) == 0;
}

// True if the first |bits| bits of |a| and |b| are equal.
bool prefix_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
  unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::string_view addr = text;
  std::optional<unsigned> bits;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    bits = n;
  }

  char buf[INET6_ADDRSTRLEN + 1];
  if (addr.empty() || addr.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';

  Cidr cidr;
  if (inet_pton(AF_INET, buf, cidr.bytes_.data()) == 1) {
    if (bits.value_or(32) > 32) return std::nullopt;
    cidr.prefix_bits_ = static_cast<uint8_t>(bits.value_or(32));
  } else if (inet_pton(AF_INET6, buf, cidr.bytes_.data()) == 1) {
    unsigned n = bits.value_or(128);
    if (n > 128) return std::nullopt;
    if (n >= 96 && is_v4_mapped(cidr.bytes_.data())) {
      std::memmove(cidr.bytes_.data(), cidr.bytes_.data() + 12, 4);
      std::memset(cidr.bytes_.data() + 4, 0, 12);
      n -= 96;
    } else {
      cidr.v6_ = true;
    }
    cidr.prefix_bits_ = static_cast<uint8_t>(n);
  } else {
    return std::nullopt;
  }
  return cidr;
}

bool Cidr::contains(const sockaddr* addr) const {
  if (addr == nullptr) return false;
  const uint8_t* bytes = nullptr;
  bool v6 = false;
  if (addr->sa_family == AF_INET) {
    bytes = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr);
  } else if (addr->sa_family == AF_INET6) {
    bytes = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
    if (is_v4_mapped(bytes)) {
      bytes += 12;
    } else {
      v6 = true;
    }
  } else {
    return false;
  }
  return v6 == v6_ && prefix_equal(bytes, bytes_.data(), prefix_bits_);
}

}  // namespace rules
