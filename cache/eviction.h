// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace cache {

// The bookkeeping an eviction policy keeps inside each stored object (intrusive, so a stored
// object costs no allocation of its own for eviction). Owned by the storage; the policy only
// links and unlinks it. Fields other than |freq| are guarded by the policy's lock.
struct EvictionNode {
  EvictionNode* prev = nullptr;
  EvictionNode* next = nullptr;
  uint64_t charge = 0;           // bytes it holds (body and head)
  uint32_t hash = 0;             // 32 bits of the key's hash: what a ghost queue remembers
  std::atomic<uint8_t> freq{0};  // hits since insertion, saturating (bumped lock-free)
  uint8_t queue = 0;             // which of the policy's queues holds it; 0: none
};

// Which stored object goes first when the storage is over its budget. Thread-safe: insert,
// remove and victim take the policy's lock; touch is on the hit path and should not.
class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  // |n| is stored now (its charge set).
  virtual void insert(EvictionNode* n) = 0;
  // |n| is no longer stored: |evicted| when it goes because victim() named it, false when it
  // was removed (purge, replace). Unlinking a node that is not linked does nothing.
  virtual void remove(EvictionNode* n, bool evicted) = 0;
  // A hit.
  virtual void touch(EvictionNode* n) = 0;
  // The node to evict next, left linked: the storage drops it, then calls remove(n, true).
  // Null when nothing is stored. |peek| is called with it under the policy's lock, while it is
  // certainly alive, so the storage can copy what it needs to find it (its key); once the lock
  // is released another thread may remove and free it, so the pointer is only compared after.
  virtual EvictionNode* victim(const std::function<void(const EvictionNode*)>& peek) = 0;
  // The budget the policy sizes its queues by; the storage evicts while bytes() exceed it.
  virtual void set_capacity(uint64_t bytes) = 0;
  virtual uint64_t bytes() const = 0;
};

}  // namespace cache
