// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "cache/cache_key.h"

namespace cache {

// An open-addressing hash table (linear probing, backward-shift deletion) of objects by key:
// one owning pointer per slot and no node per entry; the variants of a key are entries of their
// own, so a stored object costs about sizeof(P) / load bytes of index (8 / load for a Ref). The key
// is read from the object itself. Not thread-safe: a shard's lock guards it. |T| has key()
// returning a CacheKey; |P| is the owning pointer a slot holds (8 bytes for a Ref).
template <class T, class P = std::shared_ptr<T>>
class ObjectTable {
 public:
  using Ptr = P;

  size_t size() const { return size_; }

  // The first slot holding an object of |key| that |pred| accepts, or null. A key may have
  // several objects (variants): they share its probe run.
  template <class Pred>
  Ptr* find(const CacheKey& key, Pred&& pred) {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask()) {
      Ptr& s = slots_[i];
      if (!s) return nullptr;
      if (s->key() == key && pred(*s)) return &s;
    }
  }
  Ptr* find(const CacheKey& key) {
    return find(key, [](const T&) { return true; });
  }

  // Calls |f| with each object of |key| (|f| must not change the table).
  template <class F>
  void for_key(const CacheKey& key, F&& f) {
    find(key, [&](const T& o) {
      f(o);
      return false;
    });
  }

  // Adds |p| (another object of its key, if it has one already).
  void insert(Ptr p) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(p->key());
    while (slots_[i]) i = (i + 1) & mask();
    slots_[i] = std::move(p);
    ++size_;
  }

  // Takes the object out of |s| (a slot of this table) and closes the gap, so probes stay short
  // without tombstones. Other slot pointers are invalid afterwards.
  Ptr erase(Ptr& s) {
    size_t i = static_cast<size_t>(&s - slots_.data());
    Ptr out = std::move(s);
    --size_;
    for (size_t j = (i + 1) & mask(); slots_[j]; j = (j + 1) & mask()) {
      const size_t k = home(slots_[j]->key());
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    return out;
  }

  template <class F>
  void for_each(F&& f) {
    for (Ptr& s : slots_)
      if (s) f(s);
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  size_t home(const CacheKey& key) const { return static_cast<size_t>(key.lo) & mask(); }
  void grow() {
    std::vector<Ptr> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, nullptr);
    for (Ptr& p : old) {
      if (!p) continue;
      size_t i = home(p->key());
      while (slots_[i]) i = (i + 1) & mask();
      slots_[i] = std::move(p);
    }
  }

  std::vector<Ptr> slots_;
  size_t size_ = 0;
};

}  // namespace cache
