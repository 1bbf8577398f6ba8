// SPDX-License-Identifier: MIT
#include "cache/s3fifo.h"

namespace cache {
namespace {

constexpr uint8_t kMaxFreq = 3;
constexpr size_t kMinGhostSlots = 1024;

}  // namespace

S3Fifo::S3Fifo(uint64_t capacity, double small_ratio)
    : small_ratio_(small_ratio), capacity_(capacity), ghost_(kMinGhostSlots, 0) {}

void S3Fifo::insert(EvictionNode* n) {
  std::lock_guard lock(mu_);
  n->freq.store(0, std::memory_order_relaxed);
  if (ghost_take(n->hash)) {
    n->queue = kMain;
    main_.push_front(n);
  } else {
    n->queue = kSmall;
    small_.push_front(n);
    small_bytes_ += n->charge;
  }
  bytes_.fetch_add(n->charge, std::memory_order_relaxed);
  // Keep the ghost about as large as the number of objects: it remembers roughly one cache's
  // worth of evicted hashes.
  if (++count_ > ghost_.size()) ghost_.assign(ghost_.size() * 2, 0);
}

void S3Fifo::remove(EvictionNode* n, bool evicted) {
  std::lock_guard lock(mu_);
  if (n->queue == kNone) return;
  if (n->queue == kSmall) {
    small_.unlink(n);
    small_bytes_ -= n->charge;
    if (evicted) ghost_put(n->hash);
  } else {
    main_.unlink(n);
  }
  n->queue = kNone;
  --count_;
  bytes_.fetch_sub(n->charge, std::memory_order_relaxed);
}

void S3Fifo::touch(EvictionNode* n) {
  const uint8_t f = n->freq.load(std::memory_order_relaxed);
  if (f < kMaxFreq) n->freq.store(f + 1, std::memory_order_relaxed);
}

EvictionNode* S3Fifo::victim(const std::function<void(const EvictionNode*)>& peek) {
  std::lock_guard lock(mu_);
  EvictionNode* t = pick();
  if (t && peek) peek(t);
  return t;
}

EvictionNode* S3Fifo::pick() {
  const auto small_target = static_cast<uint64_t>(static_cast<double>(capacity_) * small_ratio_);
  for (;;) {
    if (!small_.empty() && (small_bytes_ >= small_target || main_.empty())) {
      EvictionNode* t = small_.tail();
      if (t->freq.load(std::memory_order_relaxed) == 0) return t;
      // Hit while in the small queue: it earned a place in main.
      small_.unlink(t);
      small_bytes_ -= t->charge;
      t->freq.store(0, std::memory_order_relaxed);
      t->queue = kMain;
      main_.push_front(t);
      continue;
    }
    if (main_.empty()) return nullptr;
    EvictionNode* t = main_.tail();
    const uint8_t f = t->freq.load(std::memory_order_relaxed);
    if (f == 0) return t;
    main_.unlink(t);
    t->freq.store(f - 1, std::memory_order_relaxed);
    main_.push_front(t);
  }
}

void S3Fifo::set_capacity(uint64_t bytes) {
  std::lock_guard lock(mu_);
  capacity_ = bytes;
}

namespace {

// The slot's bits are part of it too: what tells hashes of one slot apart is the rest.
uint32_t fingerprint(uint32_t hash) {
  return hash | 1;
}

}  // namespace

bool S3Fifo::ghost_take(uint32_t hash) {
  uint32_t& slot = ghost_[hash & (ghost_.size() - 1)];
  if (slot != fingerprint(hash)) return false;
  slot = 0;
  return true;
}

void S3Fifo::ghost_put(uint32_t hash) {
  ghost_[hash & (ghost_.size() - 1)] = fingerprint(hash);
}

}  // namespace cache
