// SPDX-License-Identifier: MIT
#include "cache/lru.h"

namespace cache {

void Lru::insert(EvictionNode* n) {
  std::lock_guard lock(mu_);
  n->queue = 1;
  list_.push_front(n);
  bytes_.fetch_add(n->charge, std::memory_order_relaxed);
}

void Lru::remove(EvictionNode* n, bool) {
  std::lock_guard lock(mu_);
  if (n->queue == 0) return;
  list_.unlink(n);
  n->queue = 0;
  bytes_.fetch_sub(n->charge, std::memory_order_relaxed);
}

void Lru::touch(EvictionNode* n) {
  std::lock_guard lock(mu_);
  if (n->queue == 0) return;
  list_.unlink(n);
  list_.push_front(n);
}

EvictionNode* Lru::victim(const std::function<void(const EvictionNode*)>& peek) {
  std::lock_guard lock(mu_);
  EvictionNode* t = list_.tail();
  if (t && peek) peek(t);
  return t;
}

void Lru::set_capacity(uint64_t bytes) {
  std::lock_guard lock(mu_);
  capacity_ = bytes;
}

}  // namespace cache
