// SPDX-License-Identifier: MIT
// BodyBuffer's zero-copy inputs: references to someone else's memory (append_reference) and
// ranges of someone else's file (append_file), in FIFO order with copied bytes.
#include <doctest/doctest.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <string>

#include "proxy/base/event_handles.h"
#include "proxy/io/body_buffer.h"
#include "tests/proxy/test_util.h"

using proxy::base::EvbufferPtr;
using proxy::base::UniqueFd;
using proxy::io::BodyBuffer;
using proxy::test::TempDir;

namespace {

struct Sockets {
  UniqueFd in, out;  // write_to() writes into |in|; the test reads from |out|

  static Sockets unix_stream(int sndbuf = 0) {
    Sockets p;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    p.in.reset(fds[0]);
    p.out.reset(fds[1]);
    if (sndbuf > 0) ::setsockopt(p.in.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    return p;
  }

  static Sockets tcp(int bufsize) {
    Sockets p;
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    REQUIRE(::listen(listener.get(), 1) == 0);
    REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0);
    p.in.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::setsockopt(p.in.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    REQUIRE(::connect(p.in.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    p.out.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    REQUIRE(p.out);
    REQUIRE(::fcntl(p.in.get(), F_SETFL, O_NONBLOCK) == 0);
    return p;
  }

  // Reads what has arrived; with |keep| false only counts it, keeping the last bytes (and the
  // first ones in |head|).
  size_t read_some(std::string& dst, bool keep = true, std::string* head = nullptr) {
    char buf[65536];
    size_t total = 0;
    for (;;) {
      ssize_t n = ::read(out.get(), buf, sizeof buf);
      if (n <= 0) {
        REQUIRE((n < 0 && errno == EAGAIN));
        return total;
      }
      total += static_cast<size_t>(n);
      if (keep) {
        dst.append(buf, static_cast<size_t>(n));
      } else {
        if (head && head->empty()) head->assign(buf, static_cast<size_t>(n < 5 ? n : 5));
        dst.append(buf, static_cast<size_t>(n));
        if (dst.size() > 64) dst.erase(0, dst.size() - 64);
      }
    }
  }
  void wait_readable() {
    pollfd p{out.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
  }
};

// Writes all of |b| through |s|; returns what arrived. |writes| counts the write_to calls.
std::string drain(BodyBuffer& b, Sockets& s, int* writes = nullptr) {
  std::string got;
  int stuck = 0;
  while (!b.empty()) {
    const uint64_t before = b.size();
    ssize_t n = b.write_to(s.in.get());
    if (writes) ++*writes;
    if (n < 0) REQUIRE(errno == EAGAIN);
    if (n >= 0) CHECK(static_cast<uint64_t>(n) == before - b.size());
    const size_t had = got.size();
    s.read_some(got);
    if (b.size() == before && got.size() == had) {
      REQUIRE(++stuck < 100);
      s.wait_readable();
    } else {
      stuck = 0;
    }
  }
  for (int i = 0; i < 3; ++i) {
    s.read_some(got);
    s.wait_readable();
  }
  s.read_some(got);
  return got;
}

std::string pattern(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void check_same(const std::string& got, const std::string& sent) {
  REQUIRE(got.size() == sent.size());
  auto diff = std::mismatch(got.begin(), got.end(), sent.begin());
  CHECK(diff.first - got.begin() == static_cast<std::ptrdiff_t>(got.size()));
}

// A file holding |content|, opened read-only; unlinked at once, as a cache file may be.
UniqueFd file_with(const TempDir& dir, const std::string& content) {
  const std::string path = dir.path() + "/f";
  UniqueFd w(::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600));
  REQUIRE(w);
  REQUIRE(::write(w.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  UniqueFd r(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ::unlink(path.c_str());
  return r;
}

struct Releases {
  int calls = 0;
  size_t bytes = 0;
  static void release(const void*, size_t len, void* arg) {
    auto* self = static_cast<Releases*>(arg);
    ++self->calls;
    self->bytes += len;
  }
};

}  // namespace

TEST_CASE("a referenced run is released exactly once when it has been sent") {
  const std::string owned = pattern(100000, 1);
  Releases r;
  {
    BodyBuffer b;
    REQUIRE(b.append("head:"));
    REQUIRE(b.append_reference(owned.data(), owned.size(), Releases::release, &r));
    CHECK(b.size() == 5 + owned.size());
    CHECK(b.memory_size() == 5 + owned.size());
    auto s = Sockets::unix_stream(4096);  // many partial writes
    std::string got = drain(b, s);
    check_same(got, "head:" + owned);
    CHECK(r.calls == 1);
    CHECK(r.bytes == owned.size());
  }
  CHECK(r.calls == 1);  // not again when the buffer goes
}

TEST_CASE("a referenced run is released exactly once when the buffer is reset before sending") {
  const std::string owned = pattern(5000, 2);
  Releases r;
  BodyBuffer b;
  REQUIRE(b.append_reference(owned.data(), owned.size(), Releases::release, &r));
  REQUIRE(b.append_reference(owned.data(), 10, Releases::release, &r));
  CHECK(r.calls == 0);
  b.reset();
  CHECK(r.calls == 2);
  CHECK(r.bytes == owned.size() + 10);
  b.reset();
  CHECK(r.calls == 2);
}

TEST_CASE("a referenced run handed over by move_to is released once its destination frees it") {
  const std::string owned = pattern(40000, 3);
  Releases r;
  BodyBuffer b;
  REQUIRE(b.append_reference(owned.data(), owned.size(), Releases::release, &r));
  std::string got;
  {
    EvbufferPtr dst(evbuffer_new());
    while (!b.empty()) {
      REQUIRE(b.move_to(dst.get(), 16384) > 0);
      const size_t len = evbuffer_get_length(dst.get());
      std::string part(len, '\0');
      evbuffer_copyout(dst.get(), part.data(), len);
      got += part;
      evbuffer_drain(dst.get(), len);
    }
  }
  check_same(got, owned);
  CHECK(r.calls == 1);
}

TEST_CASE("an empty reference is released at once") {
  Releases r;
  BodyBuffer b;
  REQUIRE(b.append_reference("x", 0, Releases::release, &r));
  CHECK(r.calls == 1);
  CHECK(b.empty());
}

TEST_CASE("a reference behind temporary-file bytes is copied there and released at once") {
  TempDir dir;
  BodyBuffer b;
  b.configure(1000, 1 << 20, dir.path().c_str());
  const std::string first = pattern(5000, 4);
  const std::string owned = pattern(3000, 5);
  REQUIRE(b.append(first));
  REQUIRE(b.file_size() > 0);
  Releases r;
  REQUIRE(b.append_reference(owned.data(), owned.size(), Releases::release, &r));
  CHECK(r.calls == 1);
  auto s = Sockets::unix_stream();
  check_same(drain(b, s), first + owned);
}

TEST_CASE("a file range follows the memory bytes and precedes those added after it") {
  TempDir dir;
  const std::string content = pattern(3 << 20, 6);
  UniqueFd fd = file_with(dir, content);
  const uint64_t off = 12345;
  const uint64_t len = content.size() - off - 1000;
  auto owner = std::make_shared<int>(7);
  std::weak_ptr<int> watch = owner;

  BodyBuffer b;
  b.configure(64 * 1024, 0, dir.path().c_str());
  const std::string before = pattern(20000, 7);
  const std::string after = "\r\n0\r\n\r\n";
  REQUIRE(b.append(before));
  REQUIRE(b.append_file(fd.get(), off, len, std::move(owner)));
  REQUIRE(b.append(after));
  CHECK(b.file_size() == len);
  CHECK(b.file_range_pending());
  CHECK(b.size() == before.size() + len + after.size());
  const std::string expected = before + content.substr(off, len) + after;

  SUBCASE("over a UNIX socket with a small send buffer (sendfile, partial writes)") {
    auto s = Sockets::unix_stream(8192);
    int writes = 0;
    check_same(drain(b, s, &writes), expected);
    CHECK(writes > 10);
  }
  SUBCASE("over TCP loopback with small buffers") {
    auto s = Sockets::tcp(16384);
    check_same(drain(b, s), expected);
  }
  SUBCASE("through move_to, as HTTP/2 DATA frames take it") {
    EvbufferPtr dst(evbuffer_new());
    std::string got;
    while (!b.empty()) {
      const ssize_t n = b.move_to(dst.get(), 16384);
      REQUIRE(n > 0);
      CHECK(n <= 16384);
      // Move-to fills its maximum while bytes remain: frames are never needlessly short.
      if (!b.empty()) CHECK(n == 16384);
    }
    got.resize(evbuffer_get_length(dst.get()));
    evbuffer_remove(dst.get(), got.data(), got.size());
    check_same(got, expected);
  }
  CHECK(b.empty());
  CHECK_FALSE(b.file_range_pending());
  CHECK(watch.expired());  // the range's owner is let go once it is sent
}

TEST_CASE("a file range uses no memory room, and another range waits until it has drained") {
  TempDir dir;
  const std::string content = pattern(100000, 8);
  UniqueFd fd = file_with(dir, content);
  BodyBuffer b;
  b.configure(50000, 0, dir.path().c_str());
  CHECK(b.room() == 50000);
  REQUIRE(b.append_file(fd.get(), 0, content.size(), nullptr));
  CHECK(b.room() == 50000);
  CHECK(b.memory_room() == 0);  // direct reads would land in front of the range
  CHECK_FALSE(b.append_file(fd.get(), 0, 10, nullptr));
  REQUIRE(b.append(std::string(1000, 'x')));
  CHECK(b.room() == 49000);
  auto s = Sockets::unix_stream();
  check_same(drain(b, s), content + std::string(1000, 'x'));
  REQUIRE(b.append_file(fd.get(), 10, 20, nullptr));
  CHECK(b.size() == 20);
}

TEST_CASE("a file range is refused while temporary-file bytes are pending") {
  TempDir dir;
  UniqueFd fd = file_with(dir, "hello");
  BodyBuffer b;
  b.configure(10, 1 << 20, dir.path().c_str());
  REQUIRE(b.append(std::string(100, 'a')));
  REQUIRE(b.file_size() > 0);
  CHECK_FALSE(b.append_file(fd.get(), 0, 5, nullptr));
}

TEST_CASE("reset in the middle of a range lets go of its owner and the buffer serves again") {
  TempDir dir;
  const std::string content = pattern(1 << 20, 9);
  UniqueFd fd = file_with(dir, content);
  auto owner = std::make_shared<int>(1);
  std::weak_ptr<int> watch = owner;
  BodyBuffer b;
  REQUIRE(b.append_file(fd.get(), 0, content.size(), std::move(owner)));
  Releases r;
  const std::string owned = "behind the range";
  REQUIRE(b.append_reference(owned.data(), owned.size(), Releases::release, &r));
  auto s = Sockets::unix_stream(4096);
  REQUIRE(b.write_to(s.in.get()) > 0);
  CHECK(b.file_range_pending());
  CHECK_FALSE(watch.expired());
  b.reset();
  CHECK(watch.expired());
  CHECK(r.calls == 1);
  CHECK(b.empty());
  REQUIRE(b.append("again"));
  auto s2 = Sockets::unix_stream();
  CHECK(drain(b, s2) == "again");
}

TEST_CASE("a file shorter than its range fails the write instead of sending a short body") {
  TempDir dir;
  UniqueFd fd = file_with(dir, "0123456789");
  BodyBuffer b;
  REQUIRE(b.append_file(fd.get(), 5, 100, nullptr));
  auto s = Sockets::unix_stream();
  ssize_t n = b.write_to(s.in.get());
  if (n > 0) n = b.write_to(s.in.get());  // the five bytes there, then the end
  CHECK(n == -1);
  CHECK(errno == EIO);

  BodyBuffer m;
  REQUIRE(m.append_file(fd.get(), 5, 100, nullptr));
  EvbufferPtr dst(evbuffer_new());
  CHECK(m.move_to(dst.get(), 1000) == -1);
  CHECK(errno == EIO);
}

TEST_CASE("a file range larger than 2^31 bytes, past 4 GiB in its file, is sent whole") {
  TempDir dir;
  const std::string path = dir.path() + "/sparse";
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  REQUIRE(fd);
  const uint64_t off = (uint64_t{1} << 32) + 7;
  const uint64_t len = (uint64_t{1} << 31) + 4096 + 3;
  // A sparse file: zeros except a marker at each end of the range.
  REQUIRE(::pwrite(fd.get(), "BEGIN", 5, static_cast<off_t>(off)) == 5);
  REQUIRE(::pwrite(fd.get(), "END", 3, static_cast<off_t>(off + len - 3)) == 3);
  BodyBuffer b;
  REQUIRE(b.append_file(fd.get(), off, len, nullptr));
  REQUIRE(b.append("!"));
  CHECK(b.size() == len + 1);
  auto s = Sockets::unix_stream();
  std::string first;
  std::string last;
  uint64_t got = 0;
  int stuck = 0;
  while (!b.empty() || got < len + 1) {
    const uint64_t before = b.size();
    if (!b.empty()) {
      ssize_t n = b.write_to(s.in.get());
      if (n < 0) REQUIRE(errno == EAGAIN);
    }
    const size_t n = s.read_some(last, false, &first);
    got += n;
    if (n == 0 && b.size() == before) {
      REQUIRE(++stuck < 100);
      s.wait_readable();
    } else {
      stuck = 0;
    }
  }
  CHECK(got == len + 1);
  CHECK(first == "BEGIN");
  REQUIRE(last.size() >= 4);
  CHECK(last.substr(last.size() - 4) == "END!");
}
