// SPDX-License-Identifier: MIT
#include "proxy/file_body.h"

#include <sys/stat.h>

#include <algorithm>

#include "proxy/base/log.h"
#include "proxy/cache_reply.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"

namespace proxy {
namespace {

base::Error buffer_error() {
  return base::io_error("cannot buffer the response");
}

}  // namespace

void FileBody::start(Exchange& ex, int fd, uint64_t file_offset, std::shared_ptr<const void> keep,
                     uint64_t available, bool complete) {
  fd_ = fd;
  rate_ = 0;
  file_offset_ = file_offset;
  keep_ = std::move(keep);
  reply_ = nullptr;
  ex_ = nullptr;
  attach(ex, available, complete);
}

void FileBody::start_reply(Exchange& ex, int fd, std::shared_ptr<const void> keep,
                           const CacheReply& reply, uint64_t file_size) {
  fd_ = fd;
  rate_ = 0;
  file_offset_ = 0;
  keep_ = std::move(keep);
  ex_ = &ex;
  reply_ = &reply;
  total_ = reply.head_only ? 0 : reply.body_bytes();
  file_size_ = file_size;
  segment_ = 0;
  segment_start_ = 0;
  held_back_ = total_ > kCheckAbove;
  attach(ex, held_back_ ? total_ - 1 : total_, !held_back_);
}

void FileBody::output_drained() {
  LocalBody::output_drained();
  // All but the last byte is in, and has left: the file must still be what the head announced,
  // or the response would not be the representation it claims (a size that changed, sent to the
  // end, gives a body longer or shorter than Content-Length, or a mix of two versions).
  if (!held_back_ || done() || !ex_ || position() != total_ - 1 || ex_->out.file_size() > 0) return;
  held_back_ = false;
  struct stat st;
  if (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) != file_size_) {
    EX_LOG_WARN(*ex_, "the file changed size while being sent (%llu, now %lld): cut",
                static_cast<unsigned long long>(file_size_), static_cast<long long>(st.st_size));
    fail("the file changed size while being sent");
    return;
  }
  progress(total_, true);
}

base::Expected<uint64_t, base::Error> FileBody::add_range(Exchange& ex, uint64_t offset,
                                                          uint64_t len) {
  // The previous range is still on its way (the client's pace): the next one waits for it.
  if (ex.out.file_size() > 0) return 0;
  // Chunk framing goes around the range in memory; a full memory (framing the previous range,
  // not yet sent) waits too.
  if (ex.chunked_out && ex.out.room() < 64) return 0;
  if (ex.chunked_out && !ex.out.append_chunk_header(static_cast<size_t>(len)))
    return base::unexpected(buffer_error());
  if (auto r = ex.out.append_file(fd_, offset, len, keep_); !r) return base::unexpected(r.error());
  if (ex.chunked_out && !ex.out.append("\r\n", 2)) return base::unexpected(buffer_error());
  return len;
}

base::Expected<uint64_t, base::Error> FileBody::add_segment(Exchange& ex, uint64_t pos,
                                                            uint64_t max) {
  const CacheReply& r = *reply_;
  while (segment_ < r.segment_count && pos >= segment_start_ + r.segments[segment_].length) {
    segment_start_ += r.segments[segment_].length;
    ++segment_;
  }
  if (segment_ >= r.segment_count) return base::unexpected(buffer_error());
  const ReplySegment& s = r.segments[segment_];
  const uint64_t in = pos - segment_start_;
  const uint64_t len = std::min(max, s.length - in);
  if (!s.literal) return add_range(ex, s.offset + in, len);
  // Part heads of a multipart body: short, copied, within the output's room. Behind a pending
  // range they queue in memory and follow it.
  const uint64_t room = ex.out.room();
  if (room == 0) return 0;
  const size_t n = static_cast<size_t>(std::min(len, room));
  if (ex.chunked_out && !ex.out.append_chunk_header(n)) return base::unexpected(buffer_error());
  if (!ex.out.append(r.literal.data() + s.offset + in, n)) return base::unexpected(buffer_error());
  if (ex.chunked_out && !ex.out.append("\r\n", 2)) return base::unexpected(buffer_error());
  return n;
}

void FileBody::limit_rate(uint64_t bytes_per_s) {
  rate_ = bytes_per_s;
  rate_start_ = base::now();
}

// The pace lets a slice of 20 ms go at a time, one slice ahead of the clock: over any window of
// a second or more the rate holds within a few percent. The clock runs from the start, so a client
// that stalled may catch up to the average later, as with nginx's limit_rate.
uint64_t FileBody::allowance(Exchange& ex, uint64_t pos) {
  const uint64_t slice = std::max<uint64_t>(rate_ / 50, 1);
  const double elapsed = std::chrono::duration<double>(base::now() - rate_start_).count();
  const uint64_t due = static_cast<uint64_t>(elapsed * static_cast<double>(rate_)) + slice;
  if (due > pos) return std::min(due - pos, slice);
  if (!pace_) pace_.reset(evtimer_new(ex.loop->base(), on_pace, this));
  if (!pace_) return slice;  // out of memory for a timer: unpaced rather than stuck
  if (!evtimer_pending(pace_.get(), nullptr)) {
    const double wait = static_cast<double>(pos + 1 - slice) / static_cast<double>(rate_) - elapsed;
    const auto us = static_cast<long>(std::max(wait, 0.001) * 1e6);
    timeval tv{us / 1000000, us % 1000000};
    evtimer_add(pace_.get(), &tv);
  }
  return 0;
}

void FileBody::on_pace(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<FileBody*>(arg);
  if (!self->done()) self->output_drained();
}

base::Expected<uint64_t, base::Error> FileBody::add(Exchange& ex, uint64_t pos, uint64_t max) {
  if (rate_ > 0) {
    const uint64_t allowed = allowance(ex, pos);
    if (allowed == 0) return 0;
    max = std::min(max, allowed);
  }
  if (reply_) return add_segment(ex, pos, max);
  return add_range(ex, file_offset_ + pos, max);
}

}  // namespace proxy
