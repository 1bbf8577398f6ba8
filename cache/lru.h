// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <mutex>

#include "cache/eviction.h"
#include "cache/node_list.h"

namespace cache {

// Plain LRU, the baseline S3-FIFO is measured against (bench/eviction). A hit moves the object
// to the front under the lock, which is why the memory tier does not use it by default.
class Lru final : public EvictionPolicy {
 public:
  explicit Lru(uint64_t capacity) : capacity_(capacity) {}

  void insert(EvictionNode* n) override;
  void remove(EvictionNode* n, bool evicted) override;
  void touch(EvictionNode* n) override;
  EvictionNode* victim(const std::function<void(const EvictionNode*)>& peek) override;
  void set_capacity(uint64_t bytes) override;
  uint64_t bytes() const override { return bytes_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  uint64_t capacity_;
  NodeList list_;
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace cache
