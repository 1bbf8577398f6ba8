// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/base/clock.h"
#include "proxy/base/event_handles.h"
#include "proxy/local_body.h"

namespace proxy {

struct CacheReply;

// A body read from a file someone else owns (a disk cache object, an offloaded or static file),
// streamed into the exchange's output as file ranges (BodyBuffer::append_file): sendfile(2) on
// plain and kernel-TLS connections, read into DATA frames on HTTP/2, never held in memory. One
// range is queued at a time, as large as what is available; the next goes in once it drained.
//
// Body byte i is at file offset |file_offset| + i. For a disk cache object:
//   uint64_t at; int fd = object->file(at);
//   body.start(ex, fd, at, object, object->available(), object->complete());
// and progress() as the fill goes on.
//
// start_reply() sends a planned reply's body instead (cache_reply.h: the whole file, a range, or
// multipart/byteranges with its literal part heads), from a complete file of known size.
class FileBody final : public LocalBody {
 public:
  FileBody() = default;
  ~FileBody() = default;

  // Takes |ex|'s body (see LocalBody::attach). |keep| holds the fd's owner alive while any range
  // of it is queued (it stays in ex.out until sent or reset, even after this FileBody is gone).
  void start(Exchange& ex, int fd, uint64_t file_offset, std::shared_ptr<const void> keep,
             uint64_t available, bool complete);
  // Takes |ex|'s body: |reply|'s segments (it must outlive the body), object segments read from
  // |fd| at their offsets, literal ones copied from reply.literal. |file_size| is the size the
  // reply announced: the file must still have it before the body's last byte goes (checked for
  // bodies over kCheckAbove), else the body is cut (ex.aborted) and the event logged.
  void start_reply(Exchange& ex, int fd, std::shared_ptr<const void> keep, const CacheReply& reply,
                   uint64_t file_size);

  void output_drained() override;

  // Paces the body to |bytes_per_s| (X-Accel-Limit-Rate; 0: as fast as the client reads), from
  // now on. Call after start()/start_reply(), which clear it.
  void limit_rate(uint64_t bytes_per_s);

  // Bodies up to this size go in one piece, unchecked after the open.
  static constexpr uint64_t kCheckAbove = 64 * 1024;

 private:
  base::Expected<uint64_t, base::Error> add(Exchange& ex, uint64_t pos, uint64_t max) override;
  void released() override {
    if (pace_) event_del(pace_.get());
    keep_.reset();
    reply_ = nullptr;
    ex_ = nullptr;
  }
  // add() for a reply: the segment that holds body byte |pos|.
  base::Expected<uint64_t, base::Error> add_segment(Exchange& ex, uint64_t pos, uint64_t max);
  base::Expected<uint64_t, base::Error> add_range(Exchange& ex, uint64_t offset, uint64_t len);
  // With a rate: the body bytes from |pos| on that may go now (0: the pace timer is armed).
  uint64_t allowance(Exchange& ex, uint64_t pos);
  static void on_pace(evutil_socket_t, short, void* arg);

  int fd_ = -1;
  uint64_t file_offset_ = 0;
  std::shared_ptr<const void> keep_;
  // start_reply():
  Exchange* ex_ = nullptr;
  const CacheReply* reply_ = nullptr;
  uint64_t total_ = 0;      // the body's bytes
  uint64_t file_size_ = 0;  // announced
  bool held_back_ = false;  // the last byte waits for the size check
  size_t segment_ = 0;      // the segment holding the next byte, and its first body byte
  uint64_t segment_start_ = 0;
  // limit_rate():
  uint64_t rate_ = 0;           // bytes/s, 0: none
  base::TimePoint rate_start_;  // when the paced body began
  base::EventPtr pace_;         // wakes the body when the pace lets more go
};

}  // namespace proxy
