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

// A memory-tier object: one allocation holds the object, its head's text (StoredHead) and, when
// its size is known, the body right behind them; it counts its references (ObjectRef) itself,
// so there is no control block. A body of unknown size
// is a chain of append-only blocks, growing geometrically, that readers walk without a lock:
// a block's bytes are written before available() covers them (release store), and a block is
// linked (release store) before its first byte is published.
class MemoryObject final : public Object, public EvictionNode {
 public:
  // |inline_size|: the body's size when known (0 for an empty body); nullopt grows blocks.
  static Ref<MemoryObject> make(const CacheKey& key, const ObjectHead& head, uint64_t seq,
                                std::optional<uint64_t> inline_size);

  // A complete object with |old|'s body and a new head (a 304 refreshed it, or |old|'s own head
  // for a compact copy of a chained body): the body is copied into one allocation. Null if
  // |old|'s body cannot be read from memory.
  static Ref<MemoryObject> copy_with_head(const Object& old, const ObjectHead& head);
  static Ref<MemoryObject> copy_with_head(const Object& old, const StoredHead& head);

  struct Block {
    std::atomic<Block*> next{nullptr};
    uint64_t start;  // body offset of data()[0]
    uint64_t cap;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  };

  ~MemoryObject() override;
  // The object and its tail are one block from ::operator new (allocate()).
  static void operator delete(void* p) { ::operator delete(p); }

  std::string_view memory_at(uint64_t offset) const override;
  int file(uint64_t&) const override { return -1; }

  // Body bytes allocated (inline size, or the blocks' capacity).
  uint64_t body_bytes() const { return body_bytes_; }
  // The bytes the tier counts for it: body allocated and the head's text.
  uint64_t stored_bytes() const;
  bool same_variant(const StoredHead& h) const {
    return head_.vary() == h.vary() && head_.variant() == h.variant();
  }

  bool chained() const { return chained_; }
  // The fill's end; a fill of unknown size learns its body_size here, before readers can see
  // complete() (so head().body_size is safe to read once complete() is).
  void complete_fill(uint64_t size) {
    if (chained_) head_.set_body_size(size);
    finish(kComplete);
  }
  void abort_fill() { finish(kAborted); }
  using Object::publish;

 private:
  friend class MemoryWriter;
  // |tail| is the memory right behind the object: the head's text, then the inline body. |H|
  // is an ObjectHead or a StoredHead.
  template <class H>
  MemoryObject(const CacheKey& key, const H& head, uint64_t seq, char* tail, size_t text_size,
               uint64_t inline_size, bool chained)
      : Object(key, StoredHead(head, tail), Tier::kMemory, seq),
        chained_(chained),
        body_(chained ? nullptr : tail + text_size),
        body_bytes_(chained ? 0 : inline_size) {
    hash = static_cast<uint32_t>(key.hi >> 32);
  }
  // One allocation for the object, |text_size| bytes of head text and the inline body.
  template <class H>
  static Ref<MemoryObject> allocate(const CacheKey& key, const H& head, size_t text_size,
                                    uint64_t seq, std::optional<uint64_t> inline_size);
  // Copies |old|'s body (as long as this object's inline body) and completes; false if the
  // body is not all in memory.
  bool fill_from(const Object& old);
  const char* inline_body() const {
    return static_cast<const char*>(body_.load(std::memory_order_relaxed));
  }

  bool chained_;  // first: it fits in EvictionNode's tail padding
  // The inline body (fixed at construction), or the first block of the chain (null until the
  // first byte arrives).
  std::atomic<void*> body_;
  uint64_t body_bytes_;
};

// The write side of a memory fill.
class MemoryWriter final : public ObjectWriter {
 public:
  MemoryWriter(MemoryStorage& storage, Ref<MemoryObject> obj)
      : storage_(storage), obj_(std::move(obj)) {}
  ~MemoryWriter() override;
  ObjectRef object() const override { return obj_; }
  bool append(const char* data, size_t len) override;
  bool commit() override;
  void abort() override;

  // Copies |len| bytes in (without publishing them); false if they do not fit the object's known
  // size or |limit|.
  bool write(const char* data, size_t len, uint64_t limit);
  uint64_t written() const { return written_; }

 private:
  MemoryStorage& storage_;
  Ref<MemoryObject> obj_;
  MemoryObject::Block* tail_ = nullptr;
  uint64_t written_ = 0;
  bool ended_ = false;
};

}  // namespace cache
