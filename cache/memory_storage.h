// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "cache/eviction.h"
#include "cache/storage.h"

namespace cache {

class MemoryObject;

// The memory tier: objects in RAM, bounded in bytes (body + head, plus a fixed estimate of the
// bookkeeping so the bound is real), evicted by an EvictionPolicy (S3-FIFO by default). Keys are
// spread over shards, each with its own lock and map, so lookups on different keys never meet;
// a hit bumps the policy's counter without a lock. An object of known size is one allocation
// (the object, its head's text and its body together); one of unknown size grows a chain of blocks
// that readers follow without a lock while it fills.
class MemoryStorage final : public Storage {
 public:
  // |object_limit|: the largest body kept (a fill growing past it is aborted).
  MemoryStorage(uint64_t capacity, uint64_t object_limit,
                std::unique_ptr<EvictionPolicy> policy = nullptr);
  ~MemoryStorage() override;

  ObjectRef lookup(const CacheKey& key,
                   const std::function<bool(const StoredHead&)>& matches) override;
  std::unique_ptr<ObjectWriter> begin(const CacheKey& key, ObjectHead head,
                                      uint64_t sequence) override;
  ObjectRef update_head(const ObjectRef& old, ObjectHead head) override;
  size_t remove(const CacheKey& key) override;
  void remove(const ObjectRef& object) override;
  const TierStats& stats() const override { return stats_; }

  // Variants kept per key (Vary on a field with many values must not grow one key's chain
  // without bound): the oldest goes first.
  static constexpr size_t kMaxVariants = 32;

  // A reload changed the sizes: shrinking evicts at once.
  void set_limits(uint64_t capacity, uint64_t object_limit);
  uint64_t capacity() const { return capacity_.load(std::memory_order_relaxed); }
  uint64_t object_limit() const { return object_limit_.load(std::memory_order_relaxed); }
  // A lower bound of the sequence of every stored object (UINT64_MAX when empty): bans older
  // than it can be forgotten.
  uint64_t oldest_sequence() const override;

  // For MemoryWriter: makes a finished fill visible (replacing its key and variant).
  void insert(Ref<MemoryObject> obj);

 private:
  struct Shard;
  static constexpr size_t kShards = 64;
  Shard& shard_for(const CacheKey& key);
  // Unlinks |obj| from its chain in |s| (locked) and from the policy; returns its reference.
  Ref<MemoryObject> unlink_locked(Shard& s, const MemoryObject* obj, bool evicted);
  // Stores |obj| in |s| (locked), taking out the object it replaces and, past kMaxVariants,
  // the key's oldest variant.
  void link_locked(Shard& s, Ref<MemoryObject> obj, Ref<MemoryObject>& replaced,
                   Ref<MemoryObject>& too_many);
  void account_add(const MemoryObject& obj);
  void account_sub(const MemoryObject& obj);
  void evict_to_fit();

  std::atomic<uint64_t> capacity_;
  std::atomic<uint64_t> object_limit_;
  std::unique_ptr<EvictionPolicy> policy_;
  std::unique_ptr<Shard[]> shards_;
  TierStats stats_;
  // Live objects per sequence bucket, for oldest_sequence(); touched on insert and removal only.
  mutable std::mutex seq_mu_;
  std::map<uint64_t, uint64_t> seq_buckets_;
};

}  // namespace cache
