// SPDX-License-Identifier: MIT
// A minimal Object base for the disk tier's tests until wip/store's object.cc is merged (that
// one replaces this file). Listeners are kept in a small locked vector.
#include "cache/object.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace cache {

struct Listeners {
  std::mutex mu;
  std::vector<FillListener*> list;
};

namespace {
std::mutex g_listeners_mu;  // guards the lazy creation of an object's Listeners
}

Object::Object(const CacheKey& key, ObjectHead head, Tier tier, uint64_t sequence)
    : key_(key), head_(std::move(head)), tier_(tier), sequence_(sequence) {}

void Object::publish(uint64_t available) {
  available_.store(available, std::memory_order_release);
  Listeners* ls;
  {
    std::lock_guard lock(g_listeners_mu);
    ls = listeners_;
  }
  if (!ls) return;
  std::lock_guard lock(ls->mu);
  for (FillListener* l : ls->list) l->fill_progress();
}

void Object::finish(State state) {
  state_.store(state, std::memory_order_release);
  publish(available());
}

bool Object::subscribe(FillListener* l) const {
  Listeners* ls;
  {
    std::lock_guard lock(g_listeners_mu);
    if (!listeners_) listeners_ = new Listeners;
    ls = listeners_;
  }
  std::lock_guard lock(ls->mu);
  if (state_.load(std::memory_order_acquire) != kFilling) return false;
  ls->list.push_back(l);
  return true;
}

void Object::unsubscribe(FillListener* l) const {
  Listeners* ls;
  {
    std::lock_guard lock(g_listeners_mu);
    ls = listeners_;
  }
  if (!ls) return;
  std::lock_guard lock(ls->mu);
  ls->list.erase(std::remove(ls->list.begin(), ls->list.end(), l), ls->list.end());
}

}  // namespace cache
