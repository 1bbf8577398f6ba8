// SPDX-License-Identifier: MIT
#include "proxy/reload_channel.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace proxy {
namespace {

// A frame: its payload's length and its descriptor count (both u32, host order: the two ends
// are the same binary), then the payload. The descriptors come with the frame's first bytes.
constexpr size_t kFrameHead = 8;
// A config with its certificates is a few hundred KiB at most; anything past this is garbage.
constexpr uint32_t kMaxPayload = 64u << 20;

class Writer {
 public:
  void u32(uint32_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void i32(int v) { u32(static_cast<uint32_t>(v)); }
  void bytes(const void* p, size_t n) {
    u32(static_cast<uint32_t>(n));
    out_.append(static_cast<const char*>(p), n);
  }
  void str(std::string_view s) { bytes(s.data(), s.size()); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  uint32_t u32() {
    uint32_t v = 0;
    if (in_.size() < sizeof v) return fail();
    memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  int i32() { return static_cast<int>(u32()); }
  std::string_view bytes() {
    const uint32_t n = u32();
    if (!ok_ || in_.size() < n) return fail(), std::string_view();
    std::string_view v = in_.substr(0, n);
    in_.remove_prefix(n);
    return v;
  }
  std::string str() { return std::string(bytes()); }
  // A count of items that each take at least |min| bytes: bounded by what is left.
  uint32_t count(size_t min) {
    const uint32_t n = u32();
    return ok_ && n <= in_.size() / min ? n : fail();
  }

 private:
  uint32_t fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits for |sock| to be readable until |deadline| (now_ms; -1: none).
base::Expected<void, std::string> wait_readable(int sock, int64_t deadline) {
  for (;;) {
    int left = -1;
    if (deadline >= 0) {
      const int64_t l = deadline - now_ms();
      if (l <= 0) return base::unexpected(std::string("no answer in time"));
      left = static_cast<int>(l);
    }
    pollfd p{sock, POLLIN, 0};
    const int rc = ::poll(&p, 1, left);
    if (rc > 0) return {};
    if (rc < 0 && errno != EINTR) return base::unexpected(std::string(strerror(errno)));
  }
}

}  // namespace

bool ReloadChannel::open(ReloadChannel& out) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  out.main.reset(fds[0]);
  out.worker.reset(fds[1]);
  return true;
}

ReloadOrder::~ReloadOrder() {
  tls::cleanse(tls_files);
}

std::string encode(const ReloadOrder& order) {
  Writer w;
  w.i32(order.generation);
  w.str(order.config_name);
  w.str(order.config_text);
  w.u32(static_cast<uint32_t>(order.addresses.by_pool.size()));
  for (const auto& pool : order.addresses.by_pool) {
    w.u32(static_cast<uint32_t>(pool.size()));
    for (const auto& a : pool) {
      w.str(a.text);
      w.bytes(&a.storage, a.length);
    }
  }
  w.u32(static_cast<uint32_t>(order.tls_files.size()));
  for (const auto& [path, bytes] : order.tls_files) {
    w.str(path);
    w.bytes(bytes.data(), bytes.size());
  }
  w.u32(static_cast<uint32_t>(order.listeners.size()));
  for (const auto& l : order.listeners) {
    w.str(l.name);
    w.str(l.address);
    w.i32(l.fd);
  }
  w.i32(order.access_log_fd);
  return w.take();
}

base::Expected<ReloadOrder, std::string> decode(ChannelMessage&& message) {
  // The bytes hold private keys: overwritten on every way out.
  struct Wipe {
    std::string& s;
    ~Wipe() { explicit_bzero(s.data(), s.size()); }
  } wipe{message.bytes};
  ReloadOrder o;
  Reader r(message.bytes);
  o.generation = r.i32();
  o.config_name = r.str();
  o.config_text = r.str();
  o.addresses.by_pool.resize(r.count(4));
  for (auto& pool : o.addresses.by_pool) {
    pool.resize(r.count(8));
    for (auto& a : pool) {
      a.text = r.str();
      std::string_view raw = r.bytes();
      if (raw.size() > sizeof a.storage) return base::unexpected(std::string("bad address"));
      memcpy(&a.storage, raw.data(), raw.size());
      a.length = static_cast<socklen_t>(raw.size());
    }
  }
  const uint32_t files = r.count(8);
  for (uint32_t i = 0; i < files && r.ok(); ++i) {
    std::string path = r.str();
    std::string_view bytes = r.bytes();
    o.tls_files[path].assign(bytes.begin(), bytes.end());
  }
  o.listeners.resize(r.count(12));
  const auto fd_ok = [&](int i) {
    return i >= -1 && (i < 0 || static_cast<size_t>(i) < message.fds.size());
  };
  for (auto& l : o.listeners) {
    l.name = r.str();
    l.address = r.str();
    l.fd = r.i32();
    if (!fd_ok(l.fd)) return base::unexpected(std::string("bad descriptor index"));
  }
  o.access_log_fd = r.i32();
  if (!r.done()) return base::unexpected(std::string("malformed reload message"));
  if (!fd_ok(o.access_log_fd)) return base::unexpected(std::string("bad descriptor index"));
  o.fds = std::move(message.fds);
  return o;
}

bool send_message(int sock, std::string_view bytes, const std::vector<int>& fds) {
  if (fds.size() > kMaxChannelFds || bytes.size() > kMaxPayload) {
    errno = EMSGSIZE;
    return false;
  }
  uint32_t head[2] = {static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(fds.size())};
  iovec iov{head, kFrameHead};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxChannelFds));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  while ((n = ::sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (n < 0) return false;
  // The head is 8 bytes: a stream socket takes them whole or not at all in practice, but a
  // short send is finished like the payload (the fds went with its first byte).
  std::string_view rest(reinterpret_cast<const char*>(head) + n, kFrameHead - n);
  for (std::string_view part : {rest, bytes}) {
    while (!part.empty()) {
      n = ::send(sock, part.data(), part.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      part.remove_prefix(static_cast<size_t>(n));
    }
  }
  return true;
}

base::Expected<ChannelMessage, std::string> receive_message(int sock, int timeout_ms) {
  const int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  ChannelMessage out;
  uint32_t head[2] = {0, 0};
  size_t got = 0;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxChannelFds));
  auto fail = [](std::string why) { return base::unexpected(std::move(why)); };
  while (got < kFrameHead) {
    if (auto ok = wait_readable(sock, deadline); !ok) return fail(ok.error());
    iovec iov{reinterpret_cast<char*>(head) + got, kFrameHead - got};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(strerror(errno));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        out.fds.emplace_back(fd);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) return fail("too many descriptors");
    if (n == 0) return fail("closed");
    got += static_cast<size_t>(n);
  }
  if (head[0] > kMaxPayload || head[1] != out.fds.size()) return fail("bad frame");
  out.bytes.resize(head[0]);
  got = 0;
  while (got < out.bytes.size()) {
    if (auto ok = wait_readable(sock, deadline); !ok) return fail(ok.error());
    const ssize_t n = ::recv(sock, out.bytes.data() + got, out.bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(strerror(errno));
    if (n == 0) return fail("closed");
    got += static_cast<size_t>(n);
  }
  return out;
}

}  // namespace proxy
