// SPDX-License-Identifier: MIT
#include "proxy/cache_body.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"

namespace proxy {

CacheBody::CacheBody(Exchange& ex, std::shared_ptr<const cache::Object> object, CacheReply&& reply)
    : ex_(&ex),
      object_(std::move(object)),
      reply_(std::move(reply)),
      waker_(*ex.loop, on_wake, this) {
  if (reply_.head_only) reply_.segment_count = 0;
}

CacheBody::~CacheBody() {
  if (alive_) *alive_ = false;
  stop_following();
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
  if (ex.chunked_out) {
    return ex.out.append_chunk_header(len) && ex.out.append(data, len) && ex.out.append("\r\n", 2);
  }
  return static_cast<bool>(ex.out.append(data, len));
}

uint64_t CacheBody::emit_object(uint64_t at, uint64_t len) {
  uint64_t file_offset = 0;
  const int fd = object_->file(file_offset);
  if (fd < 0) {
    const std::string_view run = object_->memory_at(at);
    if (run.empty()) return 0;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(len, run.size()));
    return emit(run.data(), n) ? n : 0;
  }
  // A disk body: read through a bounded buffer.
  char buf[16 * 1024];
  const size_t want = static_cast<size_t>(std::min<uint64_t>(len, sizeof buf));
  const ssize_t got = ::pread(fd, buf, want, static_cast<off_t>(file_offset + at));
  if (got <= 0) return 0;
  return emit(buf, static_cast<size_t>(got)) ? static_cast<uint64_t>(got) : 0;
}

bool CacheBody::pump_once() {
  Exchange& ex = *ex_;
  bool changed = false;
  while (segment_ < reply_.segment_count) {
    const uint64_t queued = ex.out.size();
    if (queued >= kWindow) return changed;  // output_drained() calls again
    const uint64_t room = std::min<uint64_t>(kWindow - queued, ex.out.room());
    if (room == 0) return changed;
    const ReplySegment& s = reply_.segments[segment_];
    const bool open_ended = s.length == kUnknownSize;
    if (s.literal) {
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
      n = std::min(n, room);
      const uint64_t sent = emit_object(at, n);
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
  done_ = true;
}

}  // namespace proxy
