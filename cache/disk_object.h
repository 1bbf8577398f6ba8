// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "cache/object.h"
#include "cache/stored_head.h"
#include "proxy/base/unique_fd.h"

namespace cache::disk {

// What the index keeps of one stored file: its head and where it is, but no open fd (a disk
// tier of a million objects must not hold a million fds). Immutable once indexed, but for the
// bookkeeping fields below; a head update makes a new entry.
struct DiskEntry {
  DiskEntry(const CacheKey& k, const ObjectHead& h, uint64_t seq, uint32_t slot, uint64_t vh,
            std::string p)
      : key(k),
        text_(new char[StoredHead::text_size(h)]),
        head(h, text_.get()),
        sequence(seq),
        slot_size(slot),
        vhash(vh),
        path(std::move(p)) {}

  const CacheKey key;

 private:
  const std::unique_ptr<char[]> text_;  // the head's text: this entry's DiskObjects view it

 public:
  StoredHead head;  // body_size is set at commit, before the entry is indexed
  const uint64_t sequence;
  const uint32_t slot_size;
  const uint64_t vhash;
  const std::string path;  // relative to the storage's directory (object_path)

  // Eviction's second chance: set by a hit, cleared when the clock hand passes.
  std::atomic<bool> referenced{false};
  bool take_referenced() { return referenced.exchange(false, std::memory_order_relaxed); }

  // DiskIndex's bookkeeping, guarded by the key's shard lock (and the queue lock for
  // queue_pos). |generation| is that of the head slot in use (update_head writes the other).
  uint64_t file_bytes = 0;
  uint64_t generation = 0;
  bool indexed = false;
  std::list<std::shared_ptr<DiskEntry>>::iterator queue_pos;
};

// A disk-tier object as readers hold it: an entry and an open fd on its file (the temporary
// file while it fills, the same inode under its final name after commit). A hit opens the file
// anew; the fd is shared by the Objects of one file (a head update makes a new Object on the
// same fd) and stays open while any of them lives, so readers keep working after the file is
// unlinked (removed, evicted, replaced).
class DiskObject final : public Object {
 public:
  DiskObject(std::shared_ptr<DiskEntry> entry, std::shared_ptr<const proxy::base::UniqueFd> fd)
      : Object(entry->key, entry->head, Tier::kDisk, entry->sequence),
        entry_(std::move(entry)),
        fd_(std::move(fd)) {}

  std::string_view memory_at(uint64_t) const override { return {}; }
  int file(uint64_t& body_offset) const override {
    body_offset = 2ull * entry_->slot_size;
    return fd_->get();
  }
  std::shared_ptr<const void> file_owner() const override { return fd_; }
  void touch() const override { entry_->referenced.store(true, std::memory_order_relaxed); }

  // The writer's side of Object's protected publish()/finish().
  void published(uint64_t available) { publish(available); }
  // A body of unknown size learns it here, before the complete state is released: readers
  // that have seen complete() read head().body_size safely.
  void completed(uint64_t size) {
    if (!head_.body_size()) head_.set_body_size(size);
    publish(size);
    finish(kComplete);
  }
  void aborted_fill() { finish(kAborted); }

  const std::shared_ptr<DiskEntry>& entry() const { return entry_; }
  const std::shared_ptr<const proxy::base::UniqueFd>& fd() const { return fd_; }
  uint32_t slot_size() const { return entry_->slot_size; }

 private:
  std::shared_ptr<DiskEntry> entry_;
  std::shared_ptr<const proxy::base::UniqueFd> fd_;
};

}  // namespace cache::disk
