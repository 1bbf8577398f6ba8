// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "cache/eviction.h"
#include "cache/object.h"

namespace cache {

class MemoryStorage;

// A memory-tier object. A body of known size lives right behind the object in the same
// allocation (make() allocates control block, object and body at once); a body of unknown size
// is a chain of append-only blocks, growing geometrically, that readers walk without a lock:
// a block's bytes are written before available() covers them (release store), and a block is
// linked (release store) before its first byte is published.
class MemoryObject final : public Object, public EvictionNode {
 public:
  // |inline_size|: the body's size when known (0 for an empty body); nullopt grows blocks.
  static std::shared_ptr<MemoryObject> make(const CacheKey& key, ObjectHead head, uint64_t seq,
                                            std::optional<uint64_t> inline_size);

  struct Block {
    std::atomic<Block*> next{nullptr};
    uint64_t start;  // body offset of data()[0]
    uint64_t cap;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  };

  // Use make(); public for allocate_shared only. |body| is the inline body, filled in by the
  // allocator before construction.
  MemoryObject(const CacheKey& key, ObjectHead&& head, uint64_t seq, char* const* body,
               uint64_t inline_cap, bool chained);
  ~MemoryObject() override;

  std::string_view memory_at(uint64_t offset) const override;
  int file(uint64_t&) const override { return -1; }

  // Body bytes allocated (inline size, or the blocks' capacity).
  uint64_t body_bytes() const { return body_bytes_; }
  // The bytes the tier counts for it: body allocated and the head's strings.
  uint64_t stored_bytes() const;
  bool same_variant(const ObjectHead& h) const {
    return head_.vary == h.vary && head_.variant == h.variant;
  }

  // Writer side (MemoryWriter, single thread).
  bool write(const char* data, size_t len, uint64_t limit);
  uint64_t written() const { return written_; }
  bool chained() const { return chained_; }
  uint64_t inline_cap() const { return inline_cap_; }
  // The fill's end; a fill of unknown size learns its body_size here, before readers can see
  // complete() (so head().body_size is safe to read once complete() is).
  void complete_fill() {
    if (chained_) head_.body_size = written_;
    finish(kComplete);
  }
  void abort_fill() { finish(kAborted); }
  using Object::publish;

  // The other variants of the same key, guarded by the shard's lock.
  std::shared_ptr<MemoryObject> next_variant;

 private:
  char* inline_;
  std::atomic<Block*> first_{nullptr};
  Block* tail_ = nullptr;  // writer only
  uint64_t inline_cap_;
  uint64_t body_bytes_ = 0;
  uint64_t written_ = 0;  // writer only
  bool chained_;
};

// The write side of a memory fill.
class MemoryWriter final : public ObjectWriter {
 public:
  MemoryWriter(MemoryStorage& storage, std::shared_ptr<MemoryObject> obj)
      : storage_(storage), obj_(std::move(obj)) {}
  ~MemoryWriter() override;
  std::shared_ptr<const Object> object() const override { return obj_; }
  bool append(const char* data, size_t len) override;
  bool commit() override;
  void abort() override;

 private:
  MemoryStorage& storage_;
  std::shared_ptr<MemoryObject> obj_;
  bool ended_ = false;
};

}  // namespace cache
