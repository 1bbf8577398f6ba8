// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "proxy/local_body.h"

namespace proxy {

// A body held in memory by someone else (a cached object's blocks), streamed into the exchange's
// output without a copy: each run is added as a reference (BodyBuffer::append_reference), except
// runs shorter than kCopyBelow, which a copy sends cheaper than a reference.
//
// The bytes come from next(owner, offset): the contiguous run of body bytes that starts at
// |offset| (any length, up to what is available). For a cache object:
//   body.start(ex, object, [](const void* o, uint64_t off) {
//     return static_cast<const cache::Object*>(o)->memory_at(off); }, object->available(),
//     object->complete());
// |owner| is kept alive as long as any referenced byte is queued anywhere (in ex.out, or in the
// HTTP/2 connection's output after move_to), even after this MemoryBody is gone.
class MemoryBody final : public LocalBody {
 public:
  using NextFn = std::string_view (*)(const void* owner, uint64_t offset);
  static constexpr size_t kCopyBelow = 4096;

  MemoryBody() = default;
  ~MemoryBody();

  // Takes |ex|'s body (see LocalBody::attach): bytes [0, available) are there now; progress()
  // tells of more. next() must return a non-empty run for every offset below available.
  void start(Exchange& ex, std::shared_ptr<const void> owner, NextFn next, uint64_t available,
             bool complete);

 private:
  // One per body: holds the owner while references into it are queued. Freed by the last of
  // them (the body's own hold included).
  struct Pin {
    std::shared_ptr<const void> owner;
    uint32_t refs = 1;
  };
  static void unref(const void* data, size_t len, void* pin);

  base::Expected<uint64_t, base::Error> add(Exchange& ex, uint64_t pos, uint64_t max) override;
  void released() override;

  Pin* pin_ = nullptr;
  NextFn next_ = nullptr;
};

}  // namespace proxy
