// SPDX-License-Identifier: MIT
#pragma once

#include "cache/eviction.h"

namespace cache {

// An intrusive doubly linked FIFO of EvictionNodes (push at the head, pop at the tail). Not
// thread-safe: its owner's lock guards it.
class NodeList {
 public:
  bool empty() const { return head_ == nullptr; }
  EvictionNode* tail() const { return tail_; }
  void push_front(EvictionNode* n) {
    n->prev = nullptr;
    n->next = head_;
    if (head_) head_->prev = n;
    head_ = n;
    if (!tail_) tail_ = n;
  }
  void unlink(EvictionNode* n) {
    (n->prev ? n->prev->next : head_) = n->next;
    (n->next ? n->next->prev : tail_) = n->prev;
    n->prev = n->next = nullptr;
  }

 private:
  EvictionNode* head_ = nullptr;
  EvictionNode* tail_ = nullptr;
};

}  // namespace cache
