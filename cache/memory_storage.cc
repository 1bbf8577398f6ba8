// SPDX-License-Identifier: MIT
#include "cache/memory_storage.h"

#include <vector>

#include "cache/memory_object.h"
#include "cache/object_table.h"
#include "cache/s3fifo.h"

namespace cache {
namespace {

// What the budget counts per object beyond its body and head: the object itself and its slot
// in the shard's map, so that a million tiny objects cannot overrun the configured size.
constexpr uint64_t kPerObjectCharge = sizeof(MemoryObject) + 64;
// Sequence numbers are counted in buckets of this many for oldest_sequence().
constexpr uint64_t kSeqBucketShift = 10;

}  // namespace

struct alignas(64) MemoryStorage::Shard {
  std::mutex mu;
  ObjectTable<MemoryObject, Ref<MemoryObject>> table;  // every stored variant of the shard's keys
};

MemoryStorage::MemoryStorage(uint64_t capacity, uint64_t object_limit,
                             std::unique_ptr<EvictionPolicy> policy)
    : capacity_(capacity),
      object_limit_(object_limit),
      policy_(policy ? std::move(policy) : std::make_unique<S3Fifo>(capacity)),
      shards_(new Shard[kShards]) {
  policy_->set_capacity(capacity);
}

MemoryStorage::~MemoryStorage() {
  // Unlink everything from the policy before the objects (which may outlive us, held by
  // readers) and the policy go.
  for (size_t i = 0; i < kShards; ++i)
    shards_[i].table.for_each([&](Ref<MemoryObject>& o) { policy_->remove(o.get(), false); });
}

MemoryStorage::Shard& MemoryStorage::shard_for(const CacheKey& key) {
  return shards_[key.hi % kShards];
}

ObjectRef MemoryStorage::lookup(const CacheKey& key,
                                const std::function<bool(const StoredHead&)>& matches) {
  ObjectRef found;
  {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mu);
    Ref<MemoryObject>* slot =
        s.table.find(key, [&](const MemoryObject& o) { return !matches || matches(o.head()); });
    if (!slot) return nullptr;
    found = *slot;
  }
  policy_->touch(const_cast<MemoryObject*>(static_cast<const MemoryObject*>(found.get())));
  return found;
}

std::unique_ptr<ObjectWriter> MemoryStorage::begin(const CacheKey& key, ObjectHead head,
                                                   uint64_t sequence) {
  if (head.body_size && *head.body_size > object_limit()) return nullptr;
  if (StoredHead::text_size(head) > StoredHead::kMaxText) return nullptr;
  auto obj = MemoryObject::make(key, head, sequence, head.body_size);
  return std::make_unique<MemoryWriter>(*this, std::move(obj));
}

void MemoryStorage::account_add(const MemoryObject& obj) {
  stats_.objects.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes.fetch_add(obj.stored_bytes(), std::memory_order_relaxed);
  std::lock_guard lock(seq_mu_);
  ++seq_buckets_[obj.sequence() >> kSeqBucketShift];
}

void MemoryStorage::account_sub(const MemoryObject& obj) {
  stats_.objects.fetch_sub(1, std::memory_order_relaxed);
  stats_.bytes.fetch_sub(obj.stored_bytes(), std::memory_order_relaxed);
  std::lock_guard lock(seq_mu_);
  auto it = seq_buckets_.find(obj.sequence() >> kSeqBucketShift);
  if (it != seq_buckets_.end() && --it->second == 0) seq_buckets_.erase(it);
}

uint64_t MemoryStorage::oldest_sequence() const {
  std::lock_guard lock(seq_mu_);
  if (seq_buckets_.empty()) return UINT64_MAX;
  return seq_buckets_.begin()->first << kSeqBucketShift;
}

Ref<MemoryObject> MemoryStorage::unlink_locked(Shard& s, const MemoryObject* obj, bool evicted) {
  Ref<MemoryObject>* slot =
      s.table.find(obj->key(), [&](const MemoryObject& o) { return &o == obj; });
  if (!slot) return nullptr;
  Ref<MemoryObject> out = s.table.erase(*slot);
  policy_->remove(out.get(), evicted);
  account_sub(*out);
  return out;
}

void MemoryStorage::link_locked(Shard& s, Ref<MemoryObject> obj, Ref<MemoryObject>& replaced,
                                Ref<MemoryObject>& too_many) {
  const CacheKey key = obj->key();
  if (auto* same =
          s.table.find(key, [&](const MemoryObject& o) { return o.same_variant(obj->head()); }))
    replaced = unlink_locked(s, same->get(), false);
  policy_->insert(obj.get());
  account_add(*obj);
  s.table.insert(std::move(obj));
  size_t variants = 0;
  const MemoryObject* oldest = nullptr;
  s.table.for_key(key, [&](const MemoryObject& o) {
    ++variants;
    if (!oldest || o.sequence() < oldest->sequence()) oldest = &o;
  });
  if (variants > kMaxVariants) too_many = unlink_locked(s, oldest, false);
}

void MemoryStorage::insert(Ref<MemoryObject> obj) {
  obj->charge = obj->stored_bytes() + kPerObjectCharge;
  Ref<MemoryObject> replaced, too_many;  // freed outside the shard lock
  {
    Shard& s = shard_for(obj->key());
    std::lock_guard lock(s.mu);
    link_locked(s, std::move(obj), replaced, too_many);
  }
  replaced.reset();
  too_many.reset();
  evict_to_fit();
}

void MemoryStorage::evict_to_fit() {
  // Bounded so that a victim raced away by a concurrent removal cannot spin us.
  for (int tries = 0; tries < 1024 && policy_->bytes() > capacity(); ++tries) {
    CacheKey key;
    EvictionNode* victim = policy_->victim(
        [&](const EvictionNode* n) { key = static_cast<const MemoryObject*>(n)->key(); });
    if (!victim) return;
    Ref<MemoryObject> gone;
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mu);
    // Only compared, never dereferenced, until found stored (then it is alive).
    Ref<MemoryObject>* slot = s.table.find(
        key, [&](const MemoryObject& o) { return static_cast<const EvictionNode*>(&o) == victim; });
    if (!slot) continue;
    gone = unlink_locked(s, slot->get(), true);
    stats_.evictions.fetch_add(1, std::memory_order_relaxed);
  }
}

ObjectRef MemoryStorage::update_head(const ObjectRef& old, ObjectHead head) {
  if (!old || old->tier() != Tier::kMemory || !old->complete()) return nullptr;
  // The body is copied into a new single allocation: memory bodies are small (at most
  // object_limit) and this keeps every object one allocation with no shared body to track.
  if (StoredHead::text_size(head) > StoredHead::kMaxText) return nullptr;
  auto obj = MemoryObject::copy_with_head(*old, head);
  if (!obj) return nullptr;
  obj->charge = obj->stored_bytes() + kPerObjectCharge;
  Ref<MemoryObject> replaced, too_many;
  {
    Shard& s = shard_for(old->key());
    std::lock_guard lock(s.mu);
    replaced = unlink_locked(s, static_cast<const MemoryObject*>(old.get()), false);
    if (!replaced) return nullptr;
    link_locked(s, obj, replaced, too_many);
  }
  replaced.reset();
  too_many.reset();
  evict_to_fit();
  return obj;
}

size_t MemoryStorage::remove(const CacheKey& key) {
  std::vector<Ref<MemoryObject>> gone;
  {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mu);
    while (Ref<MemoryObject>* slot = s.table.find(key))
      gone.push_back(unlink_locked(s, slot->get(), false));
  }
  return gone.size();
}

void MemoryStorage::remove(const ObjectRef& object) {
  if (!object || object->tier() != Tier::kMemory) return;
  Ref<MemoryObject> gone;
  Shard& s = shard_for(object->key());
  std::lock_guard lock(s.mu);
  gone = unlink_locked(s, static_cast<const MemoryObject*>(object.get()), false);
}

void MemoryStorage::set_limits(uint64_t capacity, uint64_t object_limit) {
  capacity_.store(capacity, std::memory_order_relaxed);
  object_limit_.store(object_limit, std::memory_order_relaxed);
  policy_->set_capacity(capacity);
  evict_to_fit();
}

}  // namespace cache
