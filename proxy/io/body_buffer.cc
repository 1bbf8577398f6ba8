// SPDX-License-Identifier: MIT
#include "proxy/io/body_buffer.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "proxy/base/log.h"

namespace proxy::io {
namespace {

base::Error io_error(const char* what) {
  return base::Error{base::ErrorCode::kIo, base::Side::kInternal, false, what};
}

int open_temp_file(const char* dir) {
  int fd = ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  // File systems without O_TMPFILE: make a named file and unlink it at once.
  std::string path = std::string(dir) + "/gatehouse-body-XXXXXX";
  fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

}  // namespace

evbuffer* BodyBuffer::mem() {
  if (!mem_) mem_.reset(evbuffer_new());
  return mem_.get();
}

size_t BodyBuffer::memory_room() const {
  if (file_size() > 0) return 0;
  size_t used = memory_size();
  return used < memory_limit_ ? memory_limit_ - used : 0;
}

uint64_t BodyBuffer::room() const {
  uint64_t cap = memory_limit_ + file_limit_;
  uint64_t used = size();
  return used < cap ? cap - used : 0;
}

base::Expected<void, base::Error> BodyBuffer::append(const char* data, size_t len) {
  if (len == 0) return {};
  size_t in_memory = 0;
  if (file_size() == 0) {
    size_t r = memory_room();
    // Without a file to spill to, memory is the only place: the producer honours room().
    in_memory = file_limit_ == 0 ? len : (len < r ? len : r);
    if (in_memory > 0 && evbuffer_add(mem(), data, in_memory) != 0)
      return base::unexpected(io_error("out of memory"));
  }
  if (in_memory == len) return {};
  return append_file(data + in_memory, len - in_memory);
}

base::Expected<void, base::Error> BodyBuffer::append_chunk_header(size_t n) {
  char line[24];
  int len = snprintf(line, sizeof line, "%zx\r\n", n);
  return append(line, static_cast<size_t>(len));
}

base::Expected<void, base::Error> BodyBuffer::append_file(const char* data, size_t len) {
  if (!file_) {
    file_.reset(open_temp_file(temp_dir_));
    if (!file_) {
      LOG_ERROR("cannot create a temporary file in %s: %m", temp_dir_);
      return base::unexpected(io_error("cannot create temporary file"));
    }
  }
  while (len > 0) {
    ssize_t n = ::pwrite(file_.get(), data, len, static_cast<off_t>(file_end_));
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("cannot write a temporary file in %s: %m", temp_dir_);
      return base::unexpected(io_error("temporary file write failed"));
    }
    file_end_ += static_cast<uint64_t>(n);
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

ssize_t BodyBuffer::read_from(int fd, size_t max) {
  evbuffer_iovec vec[2];
  int nvec = evbuffer_reserve_space(mem(), static_cast<ev_ssize_t>(max), vec, 2);
  if (nvec <= 0) {
    errno = ENOMEM;
    return -1;
  }
  iovec iov[2];
  size_t want = max;
  for (int i = 0; i < nvec; ++i) {
    iov[i].iov_base = vec[i].iov_base;
    iov[i].iov_len = vec[i].iov_len < want ? vec[i].iov_len : want;
    want -= iov[i].iov_len;
  }
  ssize_t n = ::readv(fd, iov, nvec);
  if (n <= 0) {
    evbuffer_commit_space(mem(), vec, 0);
    return n;
  }
  size_t left = static_cast<size_t>(n);
  for (int i = 0; i < nvec; ++i) {
    vec[i].iov_len = left < iov[i].iov_len ? left : iov[i].iov_len;
    left -= vec[i].iov_len;
  }
  evbuffer_commit_space(mem(), vec, nvec);
  return n;
}

ssize_t BodyBuffer::write_to(int fd) {
  ssize_t total = 0;
  if (memory_size() > 0) {
    int n = evbuffer_write(mem_.get(), fd);
    if (n < 0) return -1;
    total += n;
    if (memory_size() > 0) return total;
  }
  while (file_size() > 0) {
    off_t off = static_cast<off_t>(file_pos_);
    uint64_t left = file_size();
    size_t chunk = left > (1u << 30) ? (1u << 30) : static_cast<size_t>(left);
    ssize_t n = ::sendfile(fd, file_.get(), &off, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (total > 0 && errno == EAGAIN) return total;
      return -1;
    }
    if (n == 0) {
      errno = EIO;  // the file is shorter than written: never send a silent short body
      return -1;
    }
    file_pos_ += static_cast<uint64_t>(n);
    total += n;
  }
  if (file_ && file_size() == 0) {
    // Drained: start over at the beginning so the file does not grow with the whole body.
    file_pos_ = file_end_ = 0;
    if (::ftruncate(file_.get(), 0) != 0) file_.reset();
  }
  return total;
}

void BodyBuffer::reset() {
  // The evbuffer stays for the next exchange; its chains are freed by the drain.
  if (mem_) evbuffer_drain(mem_.get(), evbuffer_get_length(mem_.get()));
  file_.reset();
  file_pos_ = file_end_ = 0;
}

}  // namespace proxy::io
