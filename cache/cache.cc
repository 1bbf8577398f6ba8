// SPDX-License-Identifier: MIT
#include "cache/cache.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "cache/ban_list.h"
#include "cache/coalescing.h"
#include "cache/disk_tier.h"
#include "cache/memory_storage.h"

namespace cache {
namespace {

// How long a key found not storable is not coalesced (issue 10: requests never queue behind
// an uncacheable URL).
constexpr auto kUncacheableFor = std::chrono::seconds(5);
// Disk hits up to this size are copied into the memory tier (read synchronously: small
// enough to come from the page cache in one go).
constexpr uint64_t kPromoteLimit = 256 << 10;
// Lookups between two attempts to forget bans that no stored object is older than.
constexpr uint64_t kTrimEvery = 4096;

uint64_t memory_object_limit(const CacheSettings& s) {
  return s.memory_object_limit ? s.memory_object_limit : s.memory / 8;
}

// Sequence numbers start at the wall clock in microseconds, so that objects a disk tier kept
// from an earlier run are older than anything (and any ban) of this one.
uint64_t initial_sequence() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

// The sequences of the fills in flight (their objects are not in a tier yet, but bans older
// than them must stay). Touched when a fill starts and ends, never on the hit path.
class FillsInFlight {
 public:
  void start(uint64_t seq) {
    std::lock_guard lock(mu_);
    seqs_.insert(seq);
  }
  void end(uint64_t seq) {
    std::lock_guard lock(mu_);
    if (auto it = seqs_.find(seq); it != seqs_.end()) seqs_.erase(it);
  }
  uint64_t oldest() const {
    std::lock_guard lock(mu_);
    return seqs_.empty() ? UINT64_MAX : *seqs_.begin();
  }

 private:
  mutable std::mutex mu_;
  std::multiset<uint64_t> seqs_;
};

}  // namespace

struct Cache::Impl {
  Impl(const CacheSettings& s, std::unique_ptr<DiskStorage> d)
      : memory(s.memory, memory_object_limit(s)),
        disk(std::move(d)),
        coalescing(kUncacheableFor),
        max_object_size(s.max_object_size),
        sequence(initial_sequence()) {}

  Storage* tier_for(const ObjectHead& head) {
    if (head.body_size) {
      if (*head.body_size > max_object_size.load(std::memory_order_relaxed)) return nullptr;
      if (*head.body_size <= memory.object_limit()) return &memory;
      return disk.get();
    }
    // Unknown size: the disk can take anything up to max_object_size; memory aborts the fill
    // if it outgrows memory_object_limit.
    if (disk) return disk.get();
    return &memory;
  }

  // Drops |obj| if a ban newer than it matches; true if it was dropped.
  bool drop_if_banned(Storage& tier, const ObjectRef& obj, CacheStats& stats) {
    if (!bans.banned(*obj)) return false;
    tier.remove(obj);
    stats.banned.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Forgets the bans older than every stored object and every fill in flight (a fill that
  // began before a ban is judged by it once stored).
  void maybe_trim_bans() {
    uint64_t oldest = memory.oldest_sequence();
    if (disk) oldest = std::min(oldest, disk->oldest_sequence());
    bans.trim(std::min(oldest, fills.oldest()));
  }

  // A copy of the complete disk object |d| in the memory tier (same head and sequence), or |d|
  // itself if it is too large or its body cannot be read.
  ObjectRef promote(const ObjectRef& d) {
    const uint64_t size = d->available();
    if (!d->complete() || size > kPromoteLimit || size > memory.object_limit()) return d;
    ObjectHead head = d->head().to_owned();
    head.body_size = size;
    auto w = memory.begin(d->key(), std::move(head), d->sequence());
    if (!w) return d;
    uint64_t file_off = 0;
    const int fd = d->file(file_off);
    char buf[16384];
    for (uint64_t off = 0; off < size;) {
      std::string_view run;
      if (fd >= 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), size - off));
        const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(file_off + off));
        if (n <= 0) return d;  // the writer aborts the copy as it goes
        run = {buf, static_cast<size_t>(n)};
      } else {
        run = d->memory_at(off);
        if (run.empty()) return d;
      }
      if (!w->append(run.data(), run.size())) return d;
      off += run.size();
    }
    auto copy = w->object();
    return w->commit() ? copy : d;
  }

  MemoryStorage memory;
  std::unique_ptr<DiskStorage> disk;
  CoalescingTable coalescing;
  BanList bans;
  std::atomic<uint64_t> max_object_size;
  std::atomic<uint64_t> sequence;
  std::atomic<uint64_t> lookups{0};
  FillsInFlight fills;
  std::thread background;
};

namespace {

// The writer a fill gets: the tier's writer, plus the bookkeeping of the Cache around it
// (max_object_size, the coalescing entry ended with the fill, the counters).
class CacheWriter final : public ObjectWriter {
 public:
  CacheWriter(CoalescingTable& table, FillsInFlight& fills, uint64_t seq, CacheStats& stats,
              const CacheKey& key, std::shared_ptr<PendingFillImpl> pending,
              std::unique_ptr<ObjectWriter> inner, uint64_t max_size)
      : table_(table),
        fills_(fills),
        seq_(seq),
        stats_(stats),
        key_(key),
        pending_(std::move(pending)),
        inner_(std::move(inner)),
        max_size_(max_size) {}
  ~CacheWriter() override {
    if (inner_) abort();
  }
  ObjectRef object() const override { return inner_ ? inner_->object() : nullptr; }
  bool append(const char* data, size_t len) override {
    if (!inner_) return false;
    written_ += len;
    if (written_ > max_size_ || !inner_->append(data, len)) {
      abort();
      return false;
    }
    return true;
  }
  bool commit() override {
    if (!inner_) return false;
    const bool ok = inner_->commit();
    (ok ? stats_.stores : stats_.store_aborts).fetch_add(1, std::memory_order_relaxed);
    end();
    return ok;
  }
  void abort() override {
    if (!inner_) return;
    inner_->abort();
    stats_.store_aborts.fetch_add(1, std::memory_order_relaxed);
    end();
  }

 private:
  void end() {
    inner_.reset();
    fills_.end(seq_);
    if (pending_) table_.end(key_, pending_.get(), PendingFill::State::kObject, false);
    pending_.reset();
  }

  CoalescingTable& table_;
  FillsInFlight& fills_;
  uint64_t seq_;
  CacheStats& stats_;
  CacheKey key_;
  std::shared_ptr<PendingFillImpl> pending_;
  std::unique_ptr<ObjectWriter> inner_;
  uint64_t max_size_;
  uint64_t written_ = 0;
};

}  // namespace

Cache::Cache(const CacheSettings& settings)
    : impl_(std::make_unique<Impl>(settings, open_disk_tier(settings))) {}

Cache::Cache(const CacheSettings& settings, std::unique_ptr<DiskStorage> disk)
    : impl_(std::make_unique<Impl>(settings, std::move(disk))) {}

Cache::~Cache() {
  // A rebuild still checking bodies would hold the shutdown until it had read them all.
  if (impl_->disk) impl_->disk->stop_rebuild();
  if (impl_->background.joinable()) impl_->background.join();
}

void Cache::reconfigure(const CacheSettings& settings) {
  impl_->max_object_size.store(settings.max_object_size, std::memory_order_relaxed);
  impl_->memory.set_limits(settings.memory, memory_object_limit(settings));
  if (impl_->disk) impl_->disk->resize(settings.disk_size);
}

void Cache::discard_fills() {
  if (impl_->disk) impl_->disk->discard_fills();
}

void Cache::start_background_work() {
  if (!impl_->disk || impl_->background.joinable()) return;
  DiskStorage* disk = impl_->disk.get();
  impl_->background = std::thread([disk] { disk->rebuild_index(); });
}

ObjectRef Cache::lookup(const CacheKey& key,
                        const std::function<std::string(std::string_view)>& variant_of) {
  Impl& d = *impl_;
  if (d.lookups.fetch_add(1, std::memory_order_relaxed) % kTrimEvery == kTrimEvery - 1)
    d.maybe_trim_bans();
  const auto matches = [&](const StoredHead& h) {
    if (h.vary().empty()) return true;
    return variant_of && variant_of(h.vary()) == h.variant();
  };
  // A banned variant is dropped and the lookup repeated: another variant may still match.
  for (int round = 0; round < 8; ++round) {
    auto obj = d.memory.lookup(key, matches);
    if (!obj) break;
    if (!d.drop_if_banned(d.memory, obj, stats_)) return obj;
  }
  if (!d.disk) return nullptr;
  for (int round = 0; round < 8; ++round) {
    auto obj = d.disk->lookup(key, matches);
    if (!obj) break;
    if (!d.drop_if_banned(*d.disk, obj, stats_)) return d.promote(obj);
  }
  return nullptr;
}

std::shared_ptr<PendingFill> Cache::join_or_lead(const CacheKey& key, bool* uncacheable) {
  auto p = impl_->coalescing.join_or_lead(key, uncacheable);
  if (p) stats_.coalesced.fetch_add(1, std::memory_order_relaxed);
  return p;
}

std::unique_ptr<ObjectWriter> Cache::fill(const CacheKey& key, ObjectHead head, bool lead) {
  Impl& d = *impl_;
  Storage* tier = d.tier_for(head);
  const uint64_t seq = d.sequence.fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<ObjectWriter> w = tier ? tier->begin(key, std::move(head), seq) : nullptr;
  if (!w) {
    if (lead) settle_uncacheable(key);
    return nullptr;
  }
  std::shared_ptr<PendingFillImpl> pending;
  if (lead) {
    pending = d.coalescing.find(key);
    // The waiters read the object as it streams in; the entry stays in the table until the
    // fill ends, so later misses join it too.
    if (pending) pending->settle(PendingFill::State::kObject, w->object());
  }
  d.fills.start(seq);
  return std::make_unique<CacheWriter>(d.coalescing, d.fills, seq, stats_, key, std::move(pending),
                                       std::move(w),
                                       d.max_object_size.load(std::memory_order_relaxed));
}

void Cache::settle_object(const CacheKey& key, ObjectRef object) {
  auto pending = impl_->coalescing.find(key);
  if (!pending) return;
  pending->settle(PendingFill::State::kObject, std::move(object));
  impl_->coalescing.end(key, pending.get(), PendingFill::State::kObject, false);
}

void Cache::settle_uncacheable(const CacheKey& key) {
  impl_->coalescing.end(key, nullptr, PendingFill::State::kUncacheable, true);
}

void Cache::settle_failed(const CacheKey& key) {
  impl_->coalescing.end(key, nullptr, PendingFill::State::kFailed, false);
}

void Cache::settle_error(const CacheKey& key) {
  impl_->coalescing.end(key, nullptr, PendingFill::State::kError, false);
}

ObjectRef Cache::refresh(const ObjectRef& old, ObjectHead head) {
  if (!old) return nullptr;
  Storage* tier =
      old->tier() == Tier::kMemory ? static_cast<Storage*>(&impl_->memory) : impl_->disk.get();
  if (!tier) return nullptr;
  stats_.revalidated.fetch_add(1, std::memory_order_relaxed);
  // A memory copy of a disk object: the disk's copy gets the new head too, so that it is not
  // found stale again once the memory copy is evicted.
  if (old->tier() == Tier::kMemory && impl_->disk) {
    const StoredHead& oh = old->head();
    auto on_disk = impl_->disk->lookup(old->key(), [&](const StoredHead& h) {
      return h.vary() == oh.vary() && h.variant() == oh.variant();
    });
    if (on_disk) impl_->disk->update_head(on_disk, head);
  }
  return tier->update_head(old, std::move(head));
}

size_t Cache::purge(const CacheKey& key) {
  Impl& d = *impl_;
  // A small disk object may also have a memory copy (promotion): the count is of variants, not
  // of copies.
  size_t n = d.memory.remove(key);
  if (d.disk) n = std::max(n, d.disk->remove(key));
  d.coalescing.forget_uncacheable(key);
  stats_.purges.fetch_add(1, std::memory_order_relaxed);
  return n;
}

void Cache::ban_prefix(std::string_view host, std::string_view path_prefix) {
  Ban b;
  b.sequence = impl_->sequence.fetch_add(1, std::memory_order_relaxed);
  b.host.reserve(host.size());
  for (char c : host) b.host.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  b.prefix = path_prefix;
  impl_->bans.add(std::move(b));
  stats_.bans.fetch_add(1, std::memory_order_relaxed);
  impl_->maybe_trim_bans();
}

void Cache::ban_tag(std::string_view tag) {
  Ban b;
  b.sequence = impl_->sequence.fetch_add(1, std::memory_order_relaxed);
  b.by_tag = true;
  b.tag = tag;
  impl_->bans.add(std::move(b));
  stats_.bans.fetch_add(1, std::memory_order_relaxed);
  impl_->maybe_trim_bans();
}

const TierStats& Cache::memory_stats() const {
  return impl_->memory.stats();
}

const TierStats* Cache::disk_stats() const {
  return impl_->disk ? &impl_->disk->stats() : nullptr;
}

}  // namespace cache
