// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace proxy {

// Open connections per client IP, shared by the worker's event loops, for
// limits.max_connections_per_client. Touched once at accept and once at close, never per request;
// sharded so that loops rarely meet on one lock.
class ClientCounter {
 public:
  // Counts a new connection from `addr`; false (and nothing counted) if it would exceed `limit`.
  bool acquire(const sockaddr* addr, uint64_t limit);
  void release(const sockaddr* addr);

 private:
  struct Key {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.hi * 0x9E3779B97F4A7C15ull ^ k.lo; }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, uint32_t, KeyHash> counts;
  };
  static bool key_of(const sockaddr* addr, Key& key);

  std::array<Shard, 16> shards_;
};

}  // namespace proxy
