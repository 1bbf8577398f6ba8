// SPDX-License-Identifier: MIT
#include "proxy/client_counter.h"

#include <netinet/in.h>

#include <cstring>

namespace proxy {

bool ClientCounter::key_of(const sockaddr* addr, Key& key) {
  if (addr->sa_family == AF_INET) {
    uint32_t v4;
    memcpy(&v4, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, 4);
    key = Key{0xffff, v4};
    return true;
  }
  if (addr->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(reinterpret_cast<const in6_addr*>(a))) {
      uint32_t v4;
      memcpy(&v4, a + 12, 4);
      key = Key{0xffff, v4};
      return true;
    }
    memcpy(&key.hi, a, 8);
    memcpy(&key.lo, a + 8, 8);
    return true;
  }
  return false;  // UNIX sockets: one local peer, not limited
}

bool ClientCounter::acquire(const sockaddr* addr, uint64_t limit) {
  Key key;
  if (!key_of(addr, key)) return true;
  Shard& s = shards_[KeyHash{}(key) % shards_.size()];
  std::lock_guard lock(s.mu);
  uint32_t& n = s.counts[key];
  if (n >= limit) {
    if (n == 0) s.counts.erase(key);
    return false;
  }
  ++n;
  return true;
}

void ClientCounter::release(const sockaddr* addr) {
  Key key;
  if (!key_of(addr, key)) return;
  Shard& s = shards_[KeyHash{}(key) % shards_.size()];
  std::lock_guard lock(s.mu);
  auto it = s.counts.find(key);
  if (it == s.counts.end()) return;
  if (--it->second == 0) s.counts.erase(it);
}

}  // namespace proxy
