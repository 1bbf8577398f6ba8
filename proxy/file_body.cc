// SPDX-License-Identifier: MIT
#include "proxy/file_body.h"

#include "proxy/exchange.h"

namespace proxy {
namespace {

base::Error buffer_error() {
  return base::Error{base::ErrorCode::kIo, base::Side::kInternal, false,
                     "cannot buffer the response"};
}

}  // namespace

void FileBody::start(Exchange& ex, int fd, uint64_t file_offset, std::shared_ptr<const void> keep,
                     uint64_t available, bool complete) {
  fd_ = fd;
  file_offset_ = file_offset;
  keep_ = std::move(keep);
  attach(ex, available, complete);
}

base::Expected<uint64_t, base::Error> FileBody::add(Exchange& ex, uint64_t pos, uint64_t max) {
  // The previous range is still on its way (the client's pace): the next one waits for it.
  if (ex.out.file_size() > 0) return 0;
  // Chunk framing goes around the range in memory; a full memory (framing the previous range,
  // not yet sent) waits too.
  if (ex.chunked_out && ex.out.room() < 64) return 0;
  if (ex.chunked_out && !ex.out.append_chunk_header(static_cast<size_t>(max)))
    return base::unexpected(buffer_error());
  if (auto r = ex.out.append_file(fd_, file_offset_ + pos, max, keep_); !r)
    return base::unexpected(r.error());
  if (ex.chunked_out && !ex.out.append("\r\n", 2)) return base::unexpected(buffer_error());
  return max;
}

}  // namespace proxy
