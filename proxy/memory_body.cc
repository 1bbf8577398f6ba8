// SPDX-License-Identifier: MIT
#include "proxy/memory_body.h"

#include "proxy/exchange.h"

namespace proxy {
namespace {

// Below this much room (with bytes still queued) the body waits for the client to take more,
// rather than adding many small pieces.
constexpr uint64_t kMinRoom = 16 * 1024;

base::Error buffer_error() {
  return base::io_error("cannot buffer the response");
}

}  // namespace

MemoryBody::~MemoryBody() {
  released();
}

void MemoryBody::start(Exchange& ex, std::shared_ptr<const void> owner, NextFn next,
                       uint64_t available, bool complete) {
  released();
  pin_ = new Pin{std::move(owner), 1};
  next_ = next;
  attach(ex, available, complete);
}

void MemoryBody::unref(const void*, size_t, void* arg) {
  auto* pin = static_cast<Pin*>(arg);
  if (--pin->refs == 0) delete pin;
}

void MemoryBody::released() {
  if (!pin_) return;
  unref(nullptr, 0, pin_);
  pin_ = nullptr;
}

base::Expected<uint64_t, base::Error> MemoryBody::add(Exchange& ex, uint64_t pos, uint64_t max) {
  const uint64_t room = ex.out.room();
  if (room == 0 || (room < kMinRoom && !ex.out.empty())) return 0;
  const std::string_view run = next_(pin_->owner.get(), pos);
  if (run.empty())
    return base::unexpected(base::io_error("body source has no bytes where it said it had"));
  uint64_t n = run.size();
  if (n > max) n = max;
  if (n > room) n = room;
  const size_t len = static_cast<size_t>(n);
  if (ex.chunked_out && !ex.out.append_chunk_header(len)) return base::unexpected(buffer_error());
  if (len < kCopyBelow) {
    if (!ex.out.append(run.data(), len)) return base::unexpected(buffer_error());
  } else {
    ++pin_->refs;
    if (!ex.out.append_reference(run.data(), len, unref, pin_))
      return base::unexpected(buffer_error());
  }
  if (ex.chunked_out && !ex.out.append("\r\n", 2)) return base::unexpected(buffer_error());
  return n;
}

}  // namespace proxy
