// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "cache/object.h"
#include "proxy/base/unique_fd.h"

namespace cache::disk {

// A disk-tier object: the body lives in a file (the temporary file while it fills, the same
// inode under its final name after commit). The fd is shared by every Object of the file (a
// head update makes a new Object on the same file) and stays open while any of them lives, so
// readers keep working after the file is unlinked (removed, evicted, replaced).
class DiskObject final : public Object {
 public:
  DiskObject(const CacheKey& key, ObjectHead head, uint64_t sequence,
             std::shared_ptr<const proxy::base::UniqueFd> fd, uint32_t slot_size, uint64_t vhash,
             std::string path)
      : Object(key, std::move(head), Tier::kDisk, sequence),
        fd_(std::move(fd)),
        slot_size_(slot_size),
        vhash_(vhash),
        path_(std::move(path)) {}

  std::string_view memory_at(uint64_t) const override { return {}; }
  int file(uint64_t& body_offset) const override {
    body_offset = 2ull * slot_size_;
    return fd_->get();
  }
  void touch() const override { referenced_.store(true, std::memory_order_relaxed); }

  // The writer's side of Object's protected publish()/finish().
  void published(uint64_t available) { publish(available); }
  // A body of unknown size learns it here, before the complete state is released: readers
  // that have seen complete() read head().body_size safely.
  void completed(uint64_t size) {
    if (!head_.body_size) head_.body_size = size;
    publish(size);
    finish(kComplete);
  }
  void aborted_fill() { finish(kAborted); }

  const std::shared_ptr<const proxy::base::UniqueFd>& fd() const { return fd_; }
  uint32_t slot_size() const { return slot_size_; }
  uint64_t vhash() const { return vhash_; }
  const std::string& path() const { return path_; }  // relative to the storage's directory

  // Eviction's second chance: set by a hit, cleared when the clock hand passes.
  bool take_referenced() const { return referenced_.exchange(false, std::memory_order_relaxed); }

  // Bookkeeping of DiskIndex, guarded by the object's shard lock (and the queue lock for
  // queue_pos). |generation| is that of the head slot in use (update_head writes the other).
  uint64_t file_bytes = 0;
  uint64_t generation = 0;
  bool indexed = false;
  std::list<std::shared_ptr<DiskObject>>::iterator queue_pos;

 private:
  std::shared_ptr<const proxy::base::UniqueFd> fd_;
  uint32_t slot_size_;
  uint64_t vhash_;
  std::string path_;
  mutable std::atomic<bool> referenced_{false};
};

}  // namespace cache::disk
