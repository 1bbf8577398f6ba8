// SPDX-License-Identifier: MIT
#include "cache/object.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace cache {

// The listeners of one object, allocated by the first subscriber (most objects never have one:
// only a fill that coalesced readers follow does).
struct Listeners {
  std::mutex mu;
  std::vector<FillListener*> list;
};

namespace {

std::atomic_ref<Listeners*> listeners_ref(Listeners*& p) {
  return std::atomic_ref<Listeners*>(p);
}

}  // namespace

Object::Object(const CacheKey& key, const StoredHead& head, Tier tier, uint64_t sequence)
    : key_(key), head_(head), sequence_(sequence), tier_(tier) {}

Object::~Object() {
  delete listeners_;
}

bool Object::subscribe(FillListener* l) const {
  Listeners* ls = listeners_ref(listeners_).load(std::memory_order_acquire);
  if (!ls) {
    auto fresh = new Listeners;
    if (listeners_ref(listeners_).compare_exchange_strong(ls, fresh, std::memory_order_acq_rel)) {
      ls = fresh;
    } else {
      delete fresh;  // another subscriber won; |ls| now holds its list
    }
  }
  std::lock_guard lock(ls->mu);
  ls->list.push_back(l);
  // Pairs with the fence in publish()/finish(): either the writer sees this list, or this
  // thread sees the writer's progress (the caller re-reads available() and the state).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (state_.load(std::memory_order_relaxed) != kFilling) {
    ls->list.pop_back();
    return false;
  }
  return true;
}

void Object::unsubscribe(FillListener* l) const {
  Listeners* ls = listeners_ref(listeners_).load(std::memory_order_acquire);
  if (!ls) return;
  std::lock_guard lock(ls->mu);
  auto it = std::find(ls->list.begin(), ls->list.end(), l);
  if (it != ls->list.end()) ls->list.erase(it);
}

namespace {

void notify(Listeners* ls) {
  if (!ls) return;
  std::lock_guard lock(ls->mu);
  for (FillListener* l : ls->list) l->fill_progress();
}

}  // namespace

void Object::publish(uint64_t available) {
  available_.store(available, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  notify(listeners_ref(listeners_).load(std::memory_order_acquire));
}

void Object::finish(State state) {
  state_.store(state, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  notify(listeners_ref(listeners_).load(std::memory_order_acquire));
}

bool decode_fields(std::string_view fields, proxy::http::HeaderList& out) {
  while (!fields.empty()) {
    size_t eol = fields.find("\r\n");
    std::string_view line = fields.substr(0, eol);
    fields = eol == std::string_view::npos ? std::string_view{} : fields.substr(eol + 2);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (!out.push(name, value)) return false;
  }
  return true;
}

}  // namespace cache
