// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/disk_object.h"
#include "cache/storage.h"

namespace cache::disk {

// The in-memory index of the disk tier: key -> stored variants, in shards with a lock each (no
// global lock on lookup), and the eviction order, a CLOCK queue (oldest first, a hit gives a
// second chance) under its own lock. Lock order: a shard's, then the queue's. Every change of
// a stored name (rename into place, unlink) happens under the key's shard lock, so the index and
// the directory agree for a key at every point another thread can see.
class DiskIndex {
 public:
  DiskIndex(int root_fd, uint64_t capacity, TierStats& stats)
      : root_fd_(root_fd), capacity_(capacity), stats_(stats) {}

  uint64_t capacity() const { return capacity_.load(std::memory_order_relaxed); }
  // A smaller size evicts at the next insert (or now, with make_room(0)).
  void set_capacity(uint64_t capacity) { capacity_.store(capacity, std::memory_order_relaxed); }

  // The newest stored variant of |key| that |matches| accepts, and its file opened into |fd|
  // (under the shard lock: no rename or unlink of the name comes between); null if none. An
  // entry whose file is gone is dropped.
  std::shared_ptr<DiskEntry> find(const CacheKey& key,
                                  const std::function<bool(const StoredHead&)>& matches,
                                  proxy::base::UniqueFd& fd);

  // Makes room for |obj| (evicting), then, under its shard lock, runs |publish| (which renames
  // the file into place, or checks that it is still there; false abandons the insert) and
  // indexes |obj|, replacing the object of the same key and variant (whose file the rename
  // replaced). With |if_absent|, an indexed object of that key and variant wins instead (the
  // rebuild: whatever is indexed already is newer) and |publish| is not run. False if |obj| was
  // not indexed (it is larger than the capacity, publish failed, or it lost to |if_absent|).
  // The rebuild's objects (|if_absent|) join the eviction queue at its front: they are older
  // than anything this process stored.
  bool insert(const std::shared_ptr<DiskEntry>& obj, bool if_absent,
              const std::function<bool()>& publish);

  // Swaps |old| for |fresh| (a new head on the same file) once |write| (given old's
  // generation) has succeeded, under the shard lock. False if |old| is no longer indexed or
  // write failed.
  bool replace(const DiskEntry& old, const std::shared_ptr<DiskEntry>& fresh,
               const std::function<bool(uint64_t generation)>& write);

  // Removes (and unlinks) every variant of |key| / one object if it is still indexed. With
  // |sweep| (the rebuild has not finished), also unlinks the key's files not indexed yet, so
  // the scan cannot bring a purged object back.
  size_t erase_key(const CacheKey& key, bool sweep);
  void erase(const DiskEntry& obj);

  // The rebuild found |path| (of |key| and |vhash|) broken: unlinks it unless that key and
  // variant is indexed (then the name is a newer commit's file).
  void unlink_unless_indexed(const CacheKey& key, uint64_t vhash, const std::string& path);

  // Evicts until |incoming| more bytes fit.
  void make_room(uint64_t incoming);

 private:
  using Variants = std::vector<std::shared_ptr<DiskEntry>>;
  struct Shard {
    std::mutex mu;
    std::unordered_map<CacheKey, Variants, CacheKeyHash> map;
  };
  static constexpr size_t kShards = 64;

  Shard& shard_of(const CacheKey& key) { return shards_[key.hi % kShards]; }
  // Under the shard's lock: drops entry |i| of |variants| from the index and the queue, and
  // unlinks its file when |unlink|. The caller erases |variants| from the map if it empties.
  void drop_locked(Variants& variants, size_t i, bool unlink);

  int root_fd_;
  std::atomic<uint64_t> capacity_;
  TierStats& stats_;
  std::array<Shard, kShards> shards_;
  std::mutex queue_mu_;
  std::list<std::shared_ptr<DiskEntry>> queue_;  // front: the next the clock hand looks at
};

}  // namespace cache::disk
