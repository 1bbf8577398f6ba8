// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"

namespace cache {

// The state behind a PendingFill (cache.h declares the interface without data; every
// PendingFill is one of these, made by the CoalescingTable).
class PendingFillImpl final : public PendingFill {
 public:
  // Settles once (later calls do nothing) and wakes the waiters, with the lock held.
  void settle(State state, ObjectRef object);

  std::atomic<State> state_{State::kWaiting};
  mutable std::mutex mu_;
  ObjectRef object_;                      // guarded by mu_ until settled, then fixed
  std::vector<FillListener*> listeners_;  // guarded by mu_
};

// The fills in flight per key and the keys recently found not storable. Sharded by key so
// concurrent misses for different keys do not meet.
class CoalescingTable {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CoalescingTable(Clock::duration uncacheable_for) : uncacheable_for_(uncacheable_for) {}

  // As Cache::join_or_lead; |*coalesced| is set when a fill in flight is returned.
  std::shared_ptr<PendingFill> join_or_lead(const CacheKey& key, bool* uncacheable);
  // The leader's pending fill for |key| (null if none).
  std::shared_ptr<PendingFillImpl> find(const CacheKey& key);
  // Takes the pending fill of |key| out of the table if it is |which| (any when null) and
  // settles it; |remember_uncacheable| records the key as not storable for a while.
  void end(const CacheKey& key, const PendingFillImpl* which, PendingFill::State state,
           bool remember_uncacheable);
  void forget_uncacheable(const CacheKey& key);

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::unordered_map<CacheKey, std::shared_ptr<PendingFillImpl>, CacheKeyHash> pending;
    std::unordered_map<CacheKey, Clock::time_point, CacheKeyHash> uncacheable;
  };
  static constexpr size_t kShards = 16;
  Shard& shard_for(const CacheKey& key) { return shards_[key.hi % kShards]; }

  Clock::duration uncacheable_for_;
  Shard shards_[kShards];
};

}  // namespace cache
