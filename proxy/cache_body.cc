// SPDX-License-Identifier: MIT
#include "proxy/cache_body.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"

namespace proxy {

// Holds the object while ex.out references its memory: one count for the CacheBody, one per
// reference not yet released (the last bytes may leave after the CacheBody is gone).
struct CacheBody::Keep {
  cache::ObjectRef object;
  std::atomic<uint32_t> refs{1};
};

void CacheBody::release_reference(const void*, size_t, void* arg) {
  auto* keep = static_cast<Keep*>(arg);
  if (keep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete keep;
}

CacheBody::CacheBody(Exchange& ex, cache::ObjectRef object, CacheReply&& reply)
    : ex_(&ex),
      object_(std::move(object)),
      reply_(std::move(reply)),
      waker_(*ex.loop, on_wake, this) {
  if (reply_.head_only) reply_.segment_count = 0;
  ex.producer = this;
}

CacheBody::~CacheBody() {
  if (alive_) *alive_ = false;
  stop_following();
  if (ex_ && !done_ && ex_->producer == this) ex_->producer = nullptr;
  if (keep_) release_reference(nullptr, 0, keep_);
}

void CacheBody::abandon() {
  stop_following();
  ex_ = nullptr;
  done_ = true;
}

void CacheBody::stop_following() {
  if (subscribed_) object_->unsubscribe(&waker_);
  subscribed_ = false;
}

void CacheBody::on_wake(void* arg) {
  static_cast<CacheBody*>(arg)->pump();
}

void CacheBody::pump() {
  if (busy_) {
    again_ = true;  // called back from inside output_ready(): the loop below goes round again
    return;
  }
  if (done_ || !ex_) return;
  bool alive = true;
  alive_ = &alive;
  busy_ = true;
  for (;;) {
    again_ = false;
    const bool changed = pump_once();
    if (changed && ex_) ex_->downstream->output_ready();
    if (!alive) return;  // output_ready() let go of us
    if (!again_ || done_ || !ex_) break;
  }
  busy_ = false;
  alive_ = nullptr;
}

bool CacheBody::emit(const char* data, size_t len) {
  Exchange& ex = *ex_;
  if (len == 0) return true;  // an empty chunk would end a chunked body
  if (ex.chunked_out) {
    return ex.out.append_chunk_header(len) && ex.out.append(data, len) && ex.out.append("\r\n", 2);
  }
  return static_cast<bool>(ex.out.append(data, len));
}

uint64_t CacheBody::emit_object(uint64_t at, uint64_t len, uint64_t room, uint64_t reference_room,
                                bool& wait) {
  Exchange& ex = *ex_;
  uint64_t file_offset = 0;
  const int fd = object_->file(file_offset);
  if (fd < 0) {
    const std::string_view run = object_->memory_at(at);
    if (run.empty()) return 0;
    const uint64_t most = std::min(len, uint64_t{run.size()});
    if (most >= kMinReference && reference_room >= kMinReference) {
      const size_t n = static_cast<size_t>(std::min(most, reference_room));
      return reference(run.data(), n) ? n : 0;
    }
    const size_t n = static_cast<size_t>(std::min(most, room));
    if (n == 0) {
      wait = true;  // no room for a copy now: output_drained() calls again
      return 0;
    }
    return emit(run.data(), n) ? n : 0;
  }
  // A disk body: file ranges, one at a time, sent with sendfile where the transport allows.
  if (ex.out.file_range_pending()) {
    wait = true;
    return 0;
  }
  const uint64_t n = std::min(len, kFileRange);
  if (ex.chunked_out && !ex.out.append_chunk_header(static_cast<size_t>(n))) return 0;
  if (!ex.out.append_file(fd, file_offset + at, n, object_->file_owner())) return 0;
  if (ex.chunked_out && !ex.out.append("\r\n", 2)) return 0;
  return n;
}

bool CacheBody::reference(const char* data, size_t n) {
  Exchange& ex = *ex_;
  if (!keep_) keep_ = new Keep{object_};
  keep_->refs.fetch_add(1, std::memory_order_relaxed);
  if (ex.chunked_out && !ex.out.append_chunk_header(n)) return false;
  if (!ex.out.append_reference(data, n, release_reference, keep_)) return false;
  return !ex.chunked_out || static_cast<bool>(ex.out.append("\r\n", 2));
}

bool CacheBody::pump_once() {
  Exchange& ex = *ex_;
  bool changed = false;
  while (segment_ < reply_.segment_count) {
    const uint64_t queued = ex.out.memory_size();
    // Copies are bounded by the output's memory room; references cost no memory of their own,
    // so a larger window of them lets a whole 256 KiB object leave with its head in one write.
    const uint64_t room =
        queued >= kWindow ? 0 : std::min<uint64_t>(kWindow - queued, ex.out.memory_room());
    const uint64_t reference_room = queued >= kReferenceWindow ? 0 : kReferenceWindow - queued;
    if (room == 0 && reference_room == 0) return changed;  // output_drained() calls again
    const ReplySegment& s = reply_.segments[segment_];
    const bool open_ended = s.length == kUnknownSize;
    if (s.literal) {
      if (room == 0) return changed;
      const uint64_t n = std::min(s.length - pos_, room);
      if (!emit(reply_.literal.data() + s.offset + pos_, static_cast<size_t>(n))) {
        finish(true);
        return true;
      }
      changed = true;
      pos_ += n;
    } else {
      const uint64_t at = s.offset + pos_;
      const uint64_t available = object_->available();
      if (at >= available) {
        if (object_->complete()) {
          if (open_ended) {
            ++segment_;
            pos_ = 0;
            continue;
          }
          finish(true);  // the object is shorter than its head said: cut, never pad
          return true;
        }
        if (object_->aborted()) {
          finish(true);
          return true;
        }
        if (!subscribed_) {
          // Subscribe, then look again: bytes that came in between would wake no one.
          subscribed_ = object_->subscribe(&waker_);
          continue;
        }
        return changed;  // the waker calls again when the fill moves
      }
      uint64_t n = available - at;
      if (!open_ended) n = std::min(n, s.length - pos_);
      bool wait = false;
      const uint64_t sent = emit_object(at, n, room, reference_room, wait);
      if (wait) return changed;
      if (sent == 0) {
        finish(true);
        return true;
      }
      changed = true;
      pos_ += sent;
    }
    if (!open_ended && pos_ == s.length) {
      ++segment_;
      pos_ = 0;
    }
  }
  finish(false);
  return true;
}

void CacheBody::finish(bool cut) {
  stop_following();
  Exchange& ex = *ex_;
  if (cut) {
    ex.aborted = true;
  } else if (ex.chunked_out && !ex.out.append("0\r\n\r\n", 5)) {
    ex.aborted = true;
  }
  ex.upstream_done = true;
  if (ex.producer == this) ex.producer = nullptr;
  done_ = true;
}

}  // namespace proxy
