// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cache/cache_key.h"
#include "cache/object.h"
#include "cache/storage.h"

namespace cache {

class DiskStorage;

struct CacheSettings {
  uint64_t memory = 256ull << 20;  // bytes in the memory tier
  std::string disk_path;           // empty: no disk tier
  uint64_t disk_size = 0;
  uint64_t max_object_size = 4ull << 30;
  // Objects larger than this (known from Content-Length, or grown past it) go to disk only.
  uint64_t memory_object_limit = 0;  // 0: memory / 8
};

// Counters for metrics and the status page; all relaxed atomics.
struct CacheStats {
  std::atomic<uint64_t> hits{0}, misses{0}, stale{0}, revalidations{0}, revalidated{0};
  std::atomic<uint64_t> coalesced{0}, bypass{0}, stores{0}, store_aborts{0};
  std::atomic<uint64_t> purges{0}, bans{0}, banned{0};
};

// A fill in flight for a key, that concurrent misses for the key wait on (coalescing). The
// filler settles it once the response head is in: with an object (the waiters read it as it
// streams in), or as not storable (the waiters go to the backend themselves).
class PendingFill {
 public:
  // kError: the backend failed (5xx, timeout, unreachable), so a waiter may serve a stale copy
  // (stale-if-error); kFailed: the fill ended otherwise (its client left, say).
  enum class State : uint8_t { kWaiting, kObject, kUncacheable, kFailed, kError };
  State state() const;
  // Set when state() is kObject.
  ObjectRef object() const;
  // As Object::subscribe: false if already settled.
  bool subscribe(FillListener* l);
  void unsubscribe(FillListener* l);
};

// The one cache of a worker process, shared by every event loop and kept across in-process
// reloads: the memory tier, the optional disk tier, the coalescing table, bans and counters.
class Cache {
 public:
  explicit Cache(const CacheSettings& settings);
  // With this disk tier instead of the one settings.disk_path names (tests inject one).
  Cache(const CacheSettings& settings, std::unique_ptr<DiskStorage> disk);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // A reload may change sizes: the memory tier shrinks by eviction, the disk tier likewise.
  void reconfigure(const CacheSettings& settings);
  // Starts the background index rebuild of the disk tier (gatehouse serves meanwhile; objects
  // become hits as they are found).
  void start_background_work();
  // The process is about to _exit with fills in progress: their temporary files on disk go
  // now (else they would wait for the next start's rebuild). The fills fail at commit.
  void discard_fills();

  // The stored variant of |key| that |variant_of| accepts (it returns the request's
  // vary_values for a stored head's vary names), memory tier first, then disk (a small disk
  // hit is promoted to memory). Objects hit by a ban are dropped here, lazily.
  ObjectRef lookup(const CacheKey& key,
                   const std::function<std::string(std::string_view)>& variant_of);

  // Coalescing (one backend request per key at a time): returns null when the caller becomes
  // the filler (it must call fill() or settle_uncacheable()/settle_failed() later, whatever
  // happens), or the fill in flight that it should wait on. A key found not storable within the
  // last few seconds is not coalesced: |*uncacheable| is set and null returned, and the caller
  // simply goes to the backend without filling.
  std::shared_ptr<PendingFill> join_or_lead(const CacheKey& key, bool* uncacheable);

  // The filler's response is storable: starts the object (memory or disk by size) and settles
  // the pending fill with it. Null if no tier takes it (the pending fill is then settled as
  // uncacheable). |lead| is what join_or_lead gave the filler (false: not coalesced, e.g. a
  // background revalidation).
  std::unique_ptr<ObjectWriter> fill(const CacheKey& key, ObjectHead head, bool lead);
  // A revalidation led through join_or_lead ended without a new fill (a 304 refreshed the
  // stored object): the waiters are served |object|, which is complete.
  void settle_object(const CacheKey& key, ObjectRef object);
  void settle_uncacheable(const CacheKey& key);
  void settle_failed(const CacheKey& key);  // the fill failed: waiters go on their own
  void settle_error(const CacheKey& key);   // the backend failed (kError)

  // A 304 refreshed |old|: its head is replaced in its tier.
  ObjectRef refresh(const ObjectRef& old, ObjectHead head);

  // Invalidation: every variant of |key| (purge, unsafe methods).
  size_t purge(const CacheKey& key);
  // Lazy bans (Varnish's model): recorded at once, applied as lookups meet older objects, so a
  // ban on a large cache never stalls. |host| empty: any host.
  void ban_prefix(std::string_view host, std::string_view path_prefix);
  void ban_tag(std::string_view tag);

  CacheStats& stats() { return stats_; }
  const TierStats& memory_stats() const;
  const TierStats* disk_stats() const;  // null without a disk tier

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  CacheStats stats_;
};

}  // namespace cache
