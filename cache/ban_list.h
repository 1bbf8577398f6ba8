// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/object.h"

namespace cache {

// One ban (Varnish's model): it applies to objects stored before it (a smaller sequence).
struct Ban {
  uint64_t sequence = 0;
  bool by_tag = false;
  std::string host;    // by prefix: empty for any host, else lowercased
  std::string prefix;  // by prefix: the path prefix
  std::string tag;     // by tag: one Surrogate-Key value
  bool matches(const StoredHead& head) const;
};

// The bans in force, newest last. Lookups read a snapshot without a lock (one atomic load on the
// common path: an object newer than every ban); adding and trimming copy the list.
class BanList {
 public:
  void add(Ban ban);
  // True if a ban newer than |obj| matches it: the object must be treated as gone.
  bool banned(const Object& obj) const;
  // Forgets bans that no stored object is older than (|oldest|: a lower bound of every stored
  // object's sequence).
  void trim(uint64_t oldest);
  size_t size() const;

 private:
  using List = std::vector<Ban>;
  std::atomic<uint64_t> newest_{0};
  std::atomic<std::shared_ptr<const List>> list_{std::make_shared<const List>()};
  std::mutex write_mu_;
};

}  // namespace cache
