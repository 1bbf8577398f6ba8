// SPDX-License-Identifier: MIT
#include "cache/memory_object.h"

#include <cstring>
#include <new>

#include "cache/memory_storage.h"

namespace cache {
namespace {

constexpr uint64_t kFirstBlock = 4096;
constexpr uint64_t kMaxBlock = 1 << 20;
constexpr uint64_t kCompactLimit = 64 << 10;

}  // namespace

template <class H>
Ref<MemoryObject> MemoryObject::allocate(const CacheKey& key, const H& head, size_t text_size,
                                         uint64_t seq, std::optional<uint64_t> inline_size) {
  const size_t body = inline_size ? static_cast<size_t>(*inline_size) : 0;
  // The tail is bytes: it needs no more alignment than the object before it.
  void* mem = ::operator new(sizeof(MemoryObject) + text_size + body);
  char* tail = static_cast<char*>(mem) + sizeof(MemoryObject);
  return Ref<MemoryObject>::share(
      ::new (mem) MemoryObject(key, head, seq, tail, text_size, body, !inline_size.has_value()));
}

Ref<MemoryObject> MemoryObject::make(const CacheKey& key, const ObjectHead& head, uint64_t seq,
                                     std::optional<uint64_t> inline_size) {
  return allocate(key, head, StoredHead::text_size(head), seq, inline_size);
}

Ref<MemoryObject> MemoryObject::copy_with_head(const Object& old, const ObjectHead& head) {
  auto obj =
      allocate(old.key(), head, StoredHead::text_size(head), old.sequence(), old.available());
  return obj->fill_from(old) ? obj : nullptr;
}

Ref<MemoryObject> MemoryObject::copy_with_head(const Object& old, const StoredHead& head) {
  auto obj = allocate(old.key(), head, head.text_bytes(), old.sequence(), old.available());
  return obj->fill_from(old) ? obj : nullptr;
}

bool MemoryObject::fill_from(const Object& old) {
  const uint64_t size = body_bytes_;
  char* out = static_cast<char*>(body_.load(std::memory_order_relaxed));
  for (uint64_t off = 0; off < size;) {
    const std::string_view run = old.memory_at(off);
    if (run.empty()) return false;
    std::memcpy(out + off, run.data(), run.size());
    off += run.size();
  }
  head_.set_body_size(size);
  publish(size);
  finish(kComplete);
  return true;
}

MemoryObject::~MemoryObject() {
  if (!chained_) return;
  auto* b = static_cast<Block*>(body_.load(std::memory_order_relaxed));
  while (b) {
    Block* next = b->next.load(std::memory_order_relaxed);
    b->~Block();
    ::operator delete(b);
    b = next;
  }
}

uint64_t MemoryObject::stored_bytes() const {
  return body_bytes_ + head_.text_bytes();
}

std::string_view MemoryObject::memory_at(uint64_t offset) const {
  const uint64_t avail = available();
  if (offset >= avail) return {};
  if (!chained_) return {inline_body() + offset, static_cast<size_t>(avail - offset)};
  auto* b = static_cast<const Block*>(body_.load(std::memory_order_acquire));
  while (b && offset >= b->start + b->cap) b = b->next.load(std::memory_order_acquire);
  if (!b) return {};
  const uint64_t in = offset - b->start;
  const uint64_t n = std::min(b->cap - in, avail - offset);
  return {b->data() + in, static_cast<size_t>(n)};
}

bool MemoryWriter::write(const char* data, size_t len, uint64_t limit) {
  MemoryObject& o = *obj_;
  if (!o.chained_) {
    if (len > o.body_bytes_ - written_) return false;  // more than its Content-Length said
    std::memcpy(static_cast<char*>(o.body_.load(std::memory_order_relaxed)) + written_, data, len);
    written_ += len;
    return true;
  }
  if (written_ + len > limit) return false;
  while (len > 0) {
    if (!tail_ || written_ == tail_->start + tail_->cap) {
      const uint64_t cap = tail_ ? std::min(tail_->cap * 2, kMaxBlock) : kFirstBlock;
      auto* b = new (::operator new(sizeof(MemoryObject::Block) + cap)) MemoryObject::Block;
      b->start = written_;
      b->cap = cap;
      o.body_bytes_ += cap;
      if (tail_) {
        tail_->next.store(b, std::memory_order_release);
      } else {
        o.body_.store(b, std::memory_order_release);
      }
      tail_ = b;
    }
    const uint64_t room = tail_->start + tail_->cap - written_;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(room, len));
    std::memcpy(tail_->data() + (written_ - tail_->start), data, n);
    written_ += n;
    data += n;
    len -= n;
  }
  return true;
}

MemoryWriter::~MemoryWriter() {
  if (!ended_) abort();
}

bool MemoryWriter::append(const char* data, size_t len) {
  if (ended_) return false;
  if (!write(data, len, storage_.object_limit())) {
    abort();
    return false;
  }
  obj_->publish(written_);
  return true;
}

bool MemoryWriter::commit() {
  if (ended_) return false;
  if (!obj_->chained() && written_ != obj_->body_bytes()) {
    abort();  // shorter than its Content-Length: truncated
    return false;
  }
  ended_ = true;
  obj_->complete_fill(written_);
  // A small body that arrived without a length (chunked) is stored as one allocation, without
  // the blocks' slack; readers that followed the fill keep the chained object until they let go.
  Ref<MemoryObject> stored = obj_;
  if (obj_->chained() && written_ <= kCompactLimit) {
    if (auto compact = MemoryObject::copy_with_head(*obj_, obj_->head()))
      stored = std::move(compact);
  }
  storage_.insert(std::move(stored));
  return true;
}

void MemoryWriter::abort() {
  if (ended_) return;
  ended_ = true;
  obj_->abort_fill();
}

}  // namespace cache
