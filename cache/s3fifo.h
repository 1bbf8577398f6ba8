// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "cache/eviction.h"
#include "cache/node_list.h"

namespace cache {

// S3-FIFO (Yang et al., SOSP 2023): new objects enter a small FIFO (~10% of the bytes); those hit
// again before they leave it move to the main FIFO, the others are evicted and their hashes
// remembered in a ghost queue; an object whose hash is in the ghost goes straight to main. Main
// reinserts an object that was hit (its counter decremented) instead of evicting it. A hit is one
// relaxed atomic increment: no lock, no list move. Scan-resistant: one-hit objects never reach
// main.
class S3Fifo final : public EvictionPolicy {
 public:
  explicit S3Fifo(uint64_t capacity, double small_ratio = 0.1);

  void insert(EvictionNode* n) override;
  void remove(EvictionNode* n, bool evicted) override;
  void touch(EvictionNode* n) override;
  EvictionNode* victim(const std::function<void(const EvictionNode*)>& peek) override;
  void set_capacity(uint64_t bytes) override;
  uint64_t bytes() const override { return bytes_.load(std::memory_order_relaxed); }

 private:
  enum : uint8_t { kNone, kSmall, kMain };
  EvictionNode* pick();            // under mu_
  bool ghost_take(uint32_t hash);  // in the ghost? (and forget it)
  void ghost_put(uint32_t hash);

  mutable std::mutex mu_;
  double small_ratio_;
  uint64_t capacity_;
  NodeList small_, main_;
  uint64_t small_bytes_ = 0;
  uint64_t count_ = 0;
  // The ghost: a direct-mapped table of recently evicted hashes (their 32 bits; 0 is
  // empty), about as many slots as objects stored: a bounded approximation of a FIFO of hashes
  // that costs 4 bytes per object and no allocation per eviction. A false match only sends a
  // new object to main.
  std::vector<uint32_t> ghost_;
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace cache
