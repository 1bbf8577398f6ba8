// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cache/cache_key.h"
#include "cache/object.h"

namespace cache {

struct TierStats {
  std::atomic<uint64_t> objects{0};
  std::atomic<uint64_t> bytes{0};  // bodies and heads
  std::atomic<uint64_t> evictions{0};
};

// One tier of storage (memory or disk). Thread-safe: every event loop calls it; no global lock
// on lookup (sharded). Every implementation passes tests/cache/storage_conformance.h.
class Storage {
 public:
  virtual ~Storage() = default;

  // The complete variant of |key| whose variant string matches: |matches(head)| is asked of
  // each stored variant of the key (the caller compares vary/variant with its request). Null if
  // none. Filling objects are not returned (the Cache's coalescing table finds those).
  virtual ObjectRef lookup(const CacheKey& key,
                           const std::function<bool(const StoredHead&)>& matches) = 0;

  // Starts storing a new object; it replaces the same key and variant at commit(). Null if this
  // tier cannot take it (larger than it may hold, disk not ready).
  virtual std::unique_ptr<ObjectWriter> begin(const CacheKey& key, ObjectHead head,
                                              uint64_t sequence) = 0;

  // Replaces the head of a stored object in place of |old| (a 304 refreshed it, RFC 9111 4.3.4);
  // the body is shared. Returns the new object (null if |old| is no longer stored).
  virtual ObjectRef update_head(const ObjectRef& old, ObjectHead head) = 0;

  // Drops every variant of |key|; returns how many.
  virtual size_t remove(const CacheKey& key) = 0;
  // Drops one object, if it is still the one stored.
  virtual void remove(const ObjectRef& object) = 0;

  virtual const TierStats& stats() const = 0;

  // A lower bound of the sequence of every object stored (UINT64_MAX when empty), so the Cache
  // can forget bans no object is older than. The default, 0, keeps every ban.
  virtual uint64_t oldest_sequence() const { return 0; }
};

}  // namespace cache
