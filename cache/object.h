// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_key.h"
#include "cache/freshness.h"
#include "cache/object_ref.h"
#include "cache/stored_head.h"
#include "proxy/http/headers.h"

namespace cache {

// Told that a fill made progress (new body bytes, its end, or its abort). Called on the filling
// thread with the object's lock held: it must only schedule work on its own thread (post to its
// event loop) and never call back into the cache from inside.
class FillListener {
 public:
  virtual void fill_progress() = 0;

 protected:
  ~FillListener() = default;
};

// The head of a response to store: what a hit needs before the first body byte. This owning
// form goes into the storage (begin, update_head) and the disk format; a stored object keeps it
// compactly as a StoredHead.
struct ObjectHead {
  int status = 200;
  std::string fields;   // the stored fields as "Name: value\r\n" lines (policy.h stored_field)
  std::string vary;     // vary_names() of the response ("" when it has no Vary)
  std::string variant;  // vary_values() of the request that filled it
  std::string tags;     // Surrogate-Key values, space-separated
  std::string host;     // the request's host, lowercased, and its path ['?' query]: for bans
  std::string path;
  Freshness freshness;
  std::optional<uint64_t> body_size;  // when known (Content-Length); a fill learns it at its end
};

// Fills |out| with views of |fields| (ObjectHead::fields' form). False if more than fit.
bool decode_fields(std::string_view fields, proxy::http::HeaderList& out);

enum class Tier : uint8_t { kMemory, kDisk };

class Object;
using ObjectRef = Ref<const Object>;

// A stored response, shared by every reader (ObjectRef, an intrusive count). The head is fixed
// once published; the body may still be arriving (a fill that coalesced readers follow as it
// streams in). Readers never lock: the writer publishes bytes with release stores.
class Object {
 public:
  virtual ~Object();  // frees the listener list (object.cc)

  const CacheKey& key() const { return key_; }
  const StoredHead& head() const { return head_; }
  Tier tier() const { return tier_; }
  // Insertion order, for lazy bans (a ban applies to objects older than it).
  uint64_t sequence() const { return sequence_; }

  // Body bytes readable now; grows while the fill is in progress.
  uint64_t available() const { return available_.load(std::memory_order_acquire); }
  bool complete() const { return state_.load(std::memory_order_acquire) == kComplete; }
  bool aborted() const { return state_.load(std::memory_order_acquire) == kAborted; }

  // Memory body: a run of bytes from |offset| (up to available()); empty at the end of what is
  // there. A disk body returns empty: read it with file().
  virtual std::string_view memory_at(uint64_t offset) const = 0;
  // Disk body: the open file and the file offset of body byte 0; -1 for a memory body. The fd
  // stays valid while the Object lives (the file may be unlinked meanwhile).
  virtual int file(uint64_t& body_offset) const = 0;

  // Fill progress notifications; a listener must unsubscribe before it goes. Subscribing to a
  // finished (complete or aborted) object calls nothing: check state first, then subscribe, then
  // check again (subscribe returns false when the fill is already over).
  bool subscribe(FillListener* l) const;
  void unsubscribe(FillListener* l) const;

  // What keeps file()'s fd open, for a body buffer that sends from it after this object is
  // let go (null: the fd lives as long as the object, or there is none).
  virtual std::shared_ptr<const void> file_owner() const { return nullptr; }

  // A hit refreshes the object's standing in eviction (implementation-defined, lock-free).
  virtual void touch() const {}

  // The count Ref keeps (object_ref.h); the last release deletes the object.
  void add_ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() const {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  enum State : uint8_t { kFilling, kComplete, kAborted };
  // |head|'s text is owned by the derived object (or what it keeps alive).
  Object(const CacheKey& key, const StoredHead& head, Tier tier, uint64_t sequence);
  // For the writer: publish |n| more bytes / the end / the abort, and wake the listeners.
  void publish(uint64_t available);
  void finish(State state);

  CacheKey key_;
  StoredHead head_;
  uint64_t sequence_;
  std::atomic<uint64_t> available_{0};
  mutable struct Listeners* listeners_ = nullptr;  // guarded by its own small lock (object.cc)
  Tier tier_;
  std::atomic<uint8_t> state_{kFilling};
  mutable std::atomic<uint32_t> refs_{0};
};

// The write side of one object being filled, owned by the filling exchange. Bytes are the
// decoded body (no chunk framing). Whoever holds the writer must end it with commit() or
// abort(); destroying it uncommitted aborts.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  // The object readers follow while it fills (they may hold it before commit).
  virtual ObjectRef object() const = 0;
  // False if the bytes cannot be kept (the object grew past max_object_size, the disk failed):
  // the object is aborted and the caller stops writing; readers see aborted().
  virtual bool append(const char* data, size_t len) = 0;
  // The body is whole: the object becomes complete and visible to lookups (atomic publish: on
  // disk, after the checksummed trailer is written and the file renamed into place).
  virtual bool commit() = 0;
  // The response broke (truncated, reset, malformed): nothing is stored, readers see aborted().
  virtual void abort() = 0;
};

}  // namespace cache
