// SPDX-License-Identifier: MIT
// The codec side of BodyBuffer: bytes handed to something that frames them itself (HTTP/2 DATA
// frames, a chunked request to a backend), memory chains without a copy, file bytes read in.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/io/body_buffer.h"

namespace proxy::io {

ssize_t BodyBuffer::move_to(evbuffer* dst, size_t max, std::string_view prefix) {
  size_t moved = 0;
  while (moved < max) {
    if (mem_ && evbuffer_get_length(mem_.get()) > 0) {
      if (!prefix.empty() && evbuffer_add(dst, prefix.data(), prefix.size()) != 0) {
        errno = ENOMEM;
        return -1;
      }
      prefix = {};
      const int n = evbuffer_remove_buffer(mem_.get(), dst, max - moved);
      if (n < 0) {
        errno = ENOMEM;
        return -1;
      }
      moved += static_cast<size_t>(n);
      if (moved == max) break;
    }
    if (file_size() == 0) break;
    const bool range = range_size() > 0;
    const ssize_t n = move_file_to(dst, max - moved, prefix);
    if (n < 0) return -1;
    prefix = {};
    moved += static_cast<size_t>(n);
    if (file_size() > 0 || !range) break;  // |max| reached inside the file, or the end
    range_done();                          // what followed the range is in memory now
  }
  if (!prefix.empty() && evbuffer_add(dst, prefix.data(), prefix.size()) != 0) {
    errno = ENOMEM;
    return -1;
  }
  return static_cast<ssize_t>(moved);
}

ssize_t BodyBuffer::move_file_to(evbuffer* dst, size_t max, std::string_view prefix) {
  const bool range = range_size() > 0;
  const int fd = range ? range_fd_ : file_.get();
  const uint64_t pos = range ? range_pos_ : file_pos_;
  const uint64_t left = file_size();
  size_t want = max;
  if (want > left) want = static_cast<size_t>(left);
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(dst, static_cast<ev_ssize_t>(prefix.size() + want), &vec, 1) != 1) {
    errno = ENOMEM;
    return -1;
  }
  char* at = static_cast<char*>(vec.iov_base);
  if (!prefix.empty()) memcpy(at, prefix.data(), prefix.size());
  at += prefix.size();
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, at + got, want - got, static_cast<off_t>(pos + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      evbuffer_commit_space(dst, &vec, 0);
      if (n == 0) errno = EIO;  // the file is shorter than written: never a silent short body
      return -1;
    }
    got += static_cast<size_t>(n);
  }
  vec.iov_len = prefix.size() + got;
  evbuffer_commit_space(dst, &vec, 1);
  if (range) {
    range_pos_ += got;
  } else {
    file_pos_ += got;
    file_taken();
  }
  return static_cast<ssize_t>(got);
}

}  // namespace proxy::io
