// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <vector>

#include "proxy/base/page_alloc.h"

namespace proxy {

// Keeps released objects for reuse, sized by demand: under steady load nothing is allocated or
// freed per request; trim(), called every quarter second, frees what the last interval did not
// need, so a burst does not leave the process holding its peak. Not thread-safe: one per event
// loop.
template <class Traits>
class Recycler {
 public:
  using Item = typename Traits::Item;
  explicit Recycler(Traits traits = {}) : traits_(traits) {}
  Recycler(const Recycler&) = delete;
  Recycler& operator=(const Recycler&) = delete;
  ~Recycler() {
    for (Item* i : free_) traits_.destroy(i);
  }

  Item* acquire() {
    if (++in_use_ > peak_) peak_ = in_use_;
    if (free_.empty()) return traits_.create();
    Item* i = free_.back();
    free_.pop_back();
    return i;
  }
  void release(Item* i) {
    if (!i) return;
    --in_use_;
    free_.push_back(i);
  }
  // Frees the items beyond the most the last interval had in use at once; returns how many.
  size_t trim() {
    size_t keep = peak_ > in_use_ ? peak_ - in_use_ : 0;
    size_t freed = 0;
    while (free_.size() > keep) {
      traits_.destroy(free_.back());
      free_.pop_back();
      ++freed;
    }
    peak_ = in_use_;
    return freed;
  }
  size_t in_use() const { return in_use_; }
  const Traits& traits() const { return traits_; }

 private:
  Traits traits_;
  std::vector<Item*> free_;
  size_t in_use_ = 0;
  size_t peak_ = 0;
};

// Fixed-size byte blocks for message heads, each mapped on its own (see page_alloc.h).
struct HeadBlockTraits {
  using Item = char;
  size_t size = 0;
  char* create() const { return static_cast<char*>(base::page_alloc(size)); }
  void destroy(char* b) const { base::page_free(b, size); }
};

class BlockPool : public Recycler<HeadBlockTraits> {
 public:
  explicit BlockPool(size_t block_size) : Recycler(HeadBlockTraits{block_size}) {}
  size_t block_size() const { return traits().size; }
};

}  // namespace proxy
