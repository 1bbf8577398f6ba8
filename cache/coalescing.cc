// SPDX-License-Identifier: MIT
#include "cache/coalescing.h"

namespace cache {
namespace {

const PendingFillImpl& impl(const PendingFill* p) {
  return *static_cast<const PendingFillImpl*>(p);
}
PendingFillImpl& impl(PendingFill* p) {
  return *static_cast<PendingFillImpl*>(p);
}

// The uncacheable memory is swept when it grows past this many keys per shard.
constexpr size_t kSweepAt = 1024;

}  // namespace

PendingFill::State PendingFill::state() const {
  return impl(this).state_.load(std::memory_order_acquire);
}

ObjectRef PendingFill::object() const {
  std::lock_guard lock(impl(this).mu_);
  return impl(this).object_;
}

bool PendingFill::subscribe(FillListener* l) {
  PendingFillImpl& p = impl(this);
  std::lock_guard lock(p.mu_);
  if (p.state_.load(std::memory_order_relaxed) != State::kWaiting) return false;
  p.listeners_.push_back(l);
  return true;
}

void PendingFill::unsubscribe(FillListener* l) {
  PendingFillImpl& p = impl(this);
  std::lock_guard lock(p.mu_);
  std::erase(p.listeners_, l);
}

void PendingFillImpl::settle(State state, ObjectRef object) {
  std::lock_guard lock(mu_);
  if (state_.load(std::memory_order_relaxed) != State::kWaiting) return;
  object_ = std::move(object);
  state_.store(state, std::memory_order_release);
  for (FillListener* l : listeners_) l->fill_progress();
  listeners_.clear();
}

std::shared_ptr<PendingFill> CoalescingTable::join_or_lead(const CacheKey& key, bool* uncacheable) {
  if (uncacheable) *uncacheable = false;
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  if (auto u = s.uncacheable.find(key); u != s.uncacheable.end()) {
    if (Clock::now() < u->second) {
      if (uncacheable) *uncacheable = true;
      return nullptr;
    }
    s.uncacheable.erase(u);
  }
  auto [it, inserted] = s.pending.try_emplace(key);
  if (!inserted) return it->second;
  it->second = std::make_shared<PendingFillImpl>();
  return nullptr;
}

std::shared_ptr<PendingFillImpl> CoalescingTable::find(const CacheKey& key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.pending.find(key);
  return it == s.pending.end() ? nullptr : it->second;
}

void CoalescingTable::end(const CacheKey& key, const PendingFillImpl* which,
                          PendingFill::State state, bool remember_uncacheable) {
  std::shared_ptr<PendingFillImpl> p;
  {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mu);
    auto it = s.pending.find(key);
    if (it != s.pending.end() && (!which || it->second.get() == which)) {
      p = std::move(it->second);
      s.pending.erase(it);
    }
    if (remember_uncacheable) {
      const auto now = Clock::now();
      if (s.uncacheable.size() >= kSweepAt)
        std::erase_if(s.uncacheable, [&](const auto& kv) { return kv.second <= now; });
      s.uncacheable[key] = now + uncacheable_for_;
    }
  }
  if (p && state != PendingFill::State::kObject) p->settle(state, nullptr);
}

void CoalescingTable::forget_uncacheable(const CacheKey& key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  s.uncacheable.erase(key);
}

}  // namespace cache
