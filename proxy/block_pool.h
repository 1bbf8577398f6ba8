// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <vector>

#include "proxy/base/page_alloc.h"

namespace proxy {

// Fixed-size byte blocks for message heads, recycled per thread so that a request costs no heap
// allocation once the loop is warm. Not thread-safe: one per event loop.
class BlockPool {
 public:
  explicit BlockPool(size_t block_size, size_t max_free = 32)
      : size_(block_size), max_free_(max_free) {}
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() {
    for (char* b : free_) base::page_free(b, size_);
  }

  size_t block_size() const { return size_; }
  char* acquire() {
    if (free_.empty()) return static_cast<char*>(base::page_alloc(size_));
    char* b = free_.back();
    free_.pop_back();
    return b;
  }
  void release(char* b) {
    if (!b) return;
    if (free_.size() < max_free_)
      free_.push_back(b);
    else
      base::page_free(b, size_);
  }

 private:
  size_t size_;
  size_t max_free_;
  std::vector<char*> free_;
};

}  // namespace proxy
