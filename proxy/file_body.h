// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/local_body.h"

namespace proxy {

// A body read from a file someone else owns (a disk cache object, an offloaded or static file),
// streamed into the exchange's output as file ranges (BodyBuffer::append_file): sendfile(2) on
// plain and kernel-TLS connections, read into DATA frames on HTTP/2, never held in memory. One
// range is queued at a time, as large as what is available; the next goes in once it drained.
//
// Body byte i is at file offset |file_offset| + i. For a disk cache object:
//   uint64_t at; int fd = object->file(at);
//   body.start(ex, fd, at, object, object->available(), object->complete());
// and progress() as the fill goes on.
class FileBody final : public LocalBody {
 public:
  FileBody() = default;
  ~FileBody() = default;

  // Takes |ex|'s body (see LocalBody::attach). |keep| holds the fd's owner alive while any range
  // of it is queued (it stays in ex.out until sent or reset, even after this FileBody is gone).
  void start(Exchange& ex, int fd, uint64_t file_offset, std::shared_ptr<const void> keep,
             uint64_t available, bool complete);

 private:
  base::Expected<uint64_t, base::Error> add(Exchange& ex, uint64_t pos, uint64_t max) override;
  void released() override { keep_.reset(); }

  int fd_ = -1;
  uint64_t file_offset_ = 0;
  std::shared_ptr<const void> keep_;
};

}  // namespace proxy
