// SPDX-License-Identifier: MIT
#include "proxy/io/body_buffer.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "proxy/base/log.h"
#include "proxy/io/transport.h"

namespace proxy::io {
namespace {

constexpr uint64_t kBlock = 4096;

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

evbuffer* BodyBuffer::tail() {
  if (!tail_) tail_.reset(evbuffer_new());
  return tail_.get();
}

size_t BodyBuffer::memory_room() const {
  if (file_size() > 0) return 0;
  size_t used = memory_size();
  return used < memory_limit_ ? memory_limit_ - used : 0;
}

uint64_t BodyBuffer::room() const {
  if (range_size() > 0) {
    // New bytes go to memory behind the range; the range itself takes no memory.
    const size_t used = memory_size();
    return used < memory_limit_ ? memory_limit_ - used : 0;
  }
  // While the file holds bytes, new ones go behind them: memory is not usable until it drains.
  uint64_t file_room = file_limit_ > spill_size() ? file_limit_ - spill_size() : 0;
  if (budget_) {
    const uint64_t shared = budget_->limit > budget_->used ? budget_->limit - budget_->used : 0;
    if (shared < file_room) file_room = shared;
  }
  return memory_room() + file_room;
}

void BodyBuffer::share_file_budget(FileBudget* budget) {
  if (budget_) budget_->used -= charged_;
  charged_ = 0;
  budget_ = budget;
  charge_budget();
}

void BodyBuffer::charge_budget() {
  if (!budget_) return;
  budget_->used = budget_->used - charged_ + spill_size();
  charged_ = spill_size();
}

base::Expected<void, base::Error> BodyBuffer::append(const char* data, size_t len) {
  if (len == 0) return {};
  if (range_size() > 0) {
    if (evbuffer_add(tail(), data, len) != 0)
      return base::unexpected(base::io_error("out of memory"));
    return {};
  }
  size_t in_memory = 0;
  if (spill_size() == 0) {
    size_t r = memory_room();
    // Without a file to spill to, memory is the only place: the producer honours room().
    in_memory = file_limit_ == 0 ? len : (len < r ? len : r);
    if (in_memory > 0 && evbuffer_add(mem(), data, in_memory) != 0)
      return base::unexpected(base::io_error("out of memory"));
  }
  if (in_memory == len) return {};
  return append_spill(data + in_memory, len - in_memory);
}

base::Expected<void, base::Error> BodyBuffer::append_reference(const char* data, size_t len,
                                                               ReleaseFn release, void* arg) {
  if (len == 0) {
    release(data, len, arg);
    return {};
  }
  if (range_size() == 0 && spill_size() > 0) {
    // Behind the temporary file's bytes: copied there to keep the order.
    auto r = append_spill(data, len);
    release(data, len, arg);
    return r;
  }
  evbuffer* dst = range_size() > 0 ? tail() : mem();
  if (evbuffer_add_reference(dst, data, len, release, arg) != 0) {
    release(data, len, arg);
    return base::unexpected(base::io_error("out of memory"));
  }
  return {};
}

base::Expected<void, base::Error> BodyBuffer::append_file(int fd, uint64_t offset, uint64_t len,
                                                          std::shared_ptr<const void> keep) {
  if (file_size() > 0)
    return base::unexpected(base::io_error("a file range while file bytes are pending"));
  if (len == 0) return {};
  range_fd_ = fd;
  range_pos_ = offset;
  range_end_ = offset + len;
  range_keep_ = std::move(keep);
  return {};
}

// A large range goes out corked: the sockets have TCP_NODELAY, and without the cork every
// sendfile() that ends mid-segment would push a short one. The end of the range uncorks, which
// sends what is held at once.
// reset() may come after the connection closed its socket: the uncork then goes to a closed or
// reused fd, which at worst flushes another corked range early.
void BodyBuffer::uncork() {
  if (corked_ < 0) return;
  int off = 0;
  setsockopt(corked_, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
  corked_ = -1;
}

void BodyBuffer::range_done() {
  uncork();
  range_fd_ = -1;
  range_pos_ = range_end_ = 0;
  range_keep_.reset();
  if (tail_ && evbuffer_get_length(tail_.get()) > 0) evbuffer_add_buffer(mem(), tail_.get());
}

base::Expected<void, base::Error> BodyBuffer::append_chunk_header(size_t n) {
  char line[24];
  int len = snprintf(line, sizeof line, "%zx\r\n", n);
  return append(line, static_cast<size_t>(len));
}

base::Expected<void, base::Error> BodyBuffer::append_spill(const char* data, size_t len) {
  if (!file_) {
    file_.reset(open_temp_file(temp_dir_));
    if (!file_) {
      LOG_ERROR("cannot create a temporary file in %s: %m", temp_dir_);
      return base::unexpected(base::io_error("cannot create temporary file"));
    }
  }
  while (len > 0) {
    ssize_t n = ::pwrite(file_.get(), data, len, static_cast<off_t>(file_end_));
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("cannot write a temporary file in %s: %m", temp_dir_);
      charge_budget();
      return base::unexpected(base::io_error("temporary file write failed"));
    }
    file_end_ += static_cast<uint64_t>(n);
    data += n;
    len -= static_cast<size_t>(n);
  }
  charge_budget();
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

ssize_t BodyBuffer::read_from(Transport& transport, size_t max) {
  if (!transport.tls()) return read_from(transport.fd(), max);
  evbuffer_iovec vec[2];
  int nvec = evbuffer_reserve_space(mem(), static_cast<ev_ssize_t>(max), vec, 2);
  if (nvec <= 0) {
    errno = ENOMEM;
    return -1;
  }
  size_t want = max;
  size_t got = 0;
  int used = 0;
  for (int i = 0; i < nvec && want > 0; ++i) {
    const size_t len = vec[i].iov_len < want ? vec[i].iov_len : want;
    ssize_t n = transport.read(static_cast<char*>(vec[i].iov_base), len);
    if (n <= 0) {
      if (got > 0) break;  // the end or EAGAIN shows at the next call
      evbuffer_commit_space(mem(), vec, 0);
      return n;
    }
    vec[i].iov_len = static_cast<size_t>(n);
    used = i + 1;
    got += static_cast<size_t>(n);
    want -= static_cast<size_t>(n);
    if (static_cast<size_t>(n) < len) break;
  }
  evbuffer_commit_space(mem(), vec, used);
  return static_cast<ssize_t>(got);
}

// Holes are punched in steps of a quarter of the limit (at most 1 MiB): few system calls, and the
// space used on disk stays within the limit plus one step.
uint64_t BodyBuffer::punch_step() const {
  uint64_t step = file_limit_ / 4;
  if (step > (1u << 20)) step = 1u << 20;
  return step < kBlock ? kBlock : step;
}

namespace {

constexpr size_t kSendfileMax = 1 << 20;

// Whether |sink| can send the file itself (a transport with kernel TLS).
template <typename Sink>
bool sends_files(Sink& sink) {
  if constexpr (requires { sink.ktls_send(); })
    return sink.ktls_send();
  else
    return false;
}

template <typename Sink>
ssize_t send_file(Sink& sink, int fd, uint64_t offset, size_t len) {
  if constexpr (requires { sink.sendfile(fd, offset, len); }) {
    return sink.sendfile(fd, offset, len);
  } else {
    errno = EINVAL;
    return -1;
  }
}

// The socket a file range can go to with sendfile(2) directly: a plain one (-1: none).
template <typename Sink>
int plain_socket(Sink& sink) {
  if constexpr (requires { sink.tls(); })
    return sink.tls() ? -1 : sink.fd();
  else
    return sink.fd;
}

}  // namespace

template <typename Sink>
ssize_t BodyBuffer::write_with(Sink& sink) {
  ssize_t total = 0;
  for (;;) {
    if (mem_ && evbuffer_get_length(mem_.get()) > 0) {
      iovec iov[kMaxIov];
      evbuffer_iovec vec[kMaxIov];
      const int count = evbuffer_peek(mem_.get(), -1, nullptr, vec, kMaxIov);
      const int used = count < kMaxIov ? count : kMaxIov;
      for (int i = 0; i < used; ++i) iov[i] = {vec[i].iov_base, vec[i].iov_len};
      ssize_t n = sink.writev(iov, used);
      if (n < 0) return total > 0 && errno == EAGAIN ? total : -1;
      evbuffer_drain(mem_.get(), static_cast<size_t>(n));
      total += n;
      if (evbuffer_get_length(mem_.get()) > 0) return total;
    }
    if (spill_size() > 0) {
      const ssize_t n = write_spill(sink);
      if (n < 0) return total == 0 || errno != EAGAIN ? -1 : total;
      return total + n;
    }
    if (range_size() == 0) return total;
    const ssize_t n = write_range(sink);
    if (n < 0) return total == 0 || errno != EAGAIN ? -1 : total;
    total += n;
    if (range_size() > 0) return total;
    range_done();  // what followed the range is in memory now: on with it
  }
}

template <typename Sink>
ssize_t BodyBuffer::write_range(Sink& sink) {
  const int sock = plain_socket(sink);
  const bool use_sendfile = sock >= 0 || sends_files(sink);
  if (sock >= 0 && corked_ < 0 && range_size() > kSendfileMax) {
    int on = 1;
    if (setsockopt(sock, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0) corked_ = sock;
  }
  char buf[64 * 1024];
  ssize_t total = 0;
  while (range_size() > 0) {
    const uint64_t left = range_size();
    ssize_t got;
    ssize_t n;
    if (use_sendfile) {
      got = static_cast<ssize_t>(left < kSendfileMax ? left : kSendfileMax);
      if (sock >= 0) {
        off_t off = static_cast<off_t>(range_pos_);
        n = ::sendfile(sock, range_fd_, &off, static_cast<size_t>(got));
      } else {
        n = send_file(sink, range_fd_, range_pos_, static_cast<size_t>(got));
      }
      if (n == 0) {
        errno = EIO;  // the file is shorter than the range: never a silent short body
        return -1;
      }
    } else {
      size_t want = left < sizeof buf ? static_cast<size_t>(left) : sizeof buf;
      got = ::pread(range_fd_, buf, want, static_cast<off_t>(range_pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        if (got == 0) errno = EIO;
        return -1;
      }
      n = sink.write(buf, static_cast<size_t>(got));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (total == 0 || errno != EAGAIN) return -1;
      break;
    }
    range_pos_ += static_cast<uint64_t>(n);
    total += n;
    if (n < got) break;
  }
  return total;
}

template <typename Sink>
ssize_t BodyBuffer::write_spill(Sink& sink) {
  ssize_t total = 0;
  // Copied through a buffer, not sendfile: sendfile leaves the socket pointing at the file's page
  // cache until the peer reads it, and the file is then punched or rewritten under it. Kernel TLS
  // is the exception: it encrypts the pages into its own records before sendfile returns.
  const bool use_sendfile = sends_files(sink);
  char buf[64 * 1024];
  while (spill_size() > 0) {
    uint64_t left = spill_size();
    ssize_t got;
    ssize_t n;
    if (use_sendfile) {
      got = static_cast<ssize_t>(left < kSendfileMax ? left : kSendfileMax);
      n = send_file(sink, file_.get(), file_pos_, static_cast<size_t>(got));
    } else {
      size_t want = left < sizeof buf ? static_cast<size_t>(left) : sizeof buf;
      got = ::pread(file_.get(), buf, want, static_cast<off_t>(file_pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        if (got == 0) errno = EIO;  // the file is shorter than written: never a silent short body
        return -1;
      }
      n = sink.write(buf, static_cast<size_t>(got));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (total == 0 || errno != EAGAIN) {
        file_taken();
        return -1;
      }
      break;  // the socket is full: keep what was sent, and free its disk blocks below
    }
    file_pos_ += static_cast<uint64_t>(n);
    total += n;
    if (n < got) break;
  }
  file_taken();
  return total;
}

void BodyBuffer::file_taken() {
  charge_budget();
  if (file_ && file_size() == 0) {
    // Drained: start over at the beginning so the file does not grow with the whole body.
    file_pos_ = file_end_ = punched_ = 0;
    if (::ftruncate(file_.get(), 0) != 0) file_.reset();
  } else if (file_pos_ - punched_ >= punch_step()) {
    // A client a little slower than its backend never lets the file drain: free the disk blocks
    // already sent, so the space used stays what is unsent (at most max_temp_file).
    uint64_t upto = file_pos_ & ~(kBlock - 1);
    if (::fallocate(file_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(punched_), static_cast<off_t>(upto - punched_)) == 0)
      punched_ = upto;
  }
}

namespace {
// A plain socket as a BodyBuffer sink, for the upstream side.
struct SocketSink {
  int fd;
  ssize_t writev(const iovec* iov, int count) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    return ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  }
  ssize_t write(const char* buf, size_t len) { return ::send(fd, buf, len, MSG_NOSIGNAL); }
};
}  // namespace

ssize_t BodyBuffer::write_to(int fd) {
  SocketSink sink{fd};
  return write_with(sink);
}

ssize_t BodyBuffer::write_to(Transport& transport) {
  return write_with(transport);
}

void BodyBuffer::reset() {
  // The evbuffers stay for the next exchange; their chains are freed (references released) by
  // the drain.
  if (mem_) evbuffer_drain(mem_.get(), evbuffer_get_length(mem_.get()));
  if (tail_) evbuffer_drain(tail_.get(), evbuffer_get_length(tail_.get()));
  uncork();
  range_fd_ = -1;
  range_pos_ = range_end_ = 0;
  range_keep_.reset();
  file_.reset();
  file_pos_ = file_end_ = punched_ = 0;
  share_file_budget(nullptr);
}

}  // namespace proxy::io
