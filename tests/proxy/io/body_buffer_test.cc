// SPDX-License-Identifier: MIT
// BodyBuffer: a memory-then-file FIFO drained to a socket.
#include "proxy/io/body_buffer.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <string>

#include "tests/proxy/test_util.h"

using proxy::base::UniqueFd;
using proxy::io::BodyBuffer;
using proxy::test::open_file_sizes_in;
using proxy::test::TempDir;

namespace {

// A connected pair of non-blocking stream sockets (write_to sends to a socket):
// write_to() writes into `in`, the test reads what arrived from `out`.
struct SocketPair {
  UniqueFd in, out;

  // UNIX sockets take or refuse whole writes of a few KiB.
  static SocketPair unix_stream(int sndbuf = 0) {
    SocketPair p;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    p.in.reset(fds[0]);
    p.out.reset(fds[1]);
    if (sndbuf > 0) ::setsockopt(p.in.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    return p;
  }

  // TCP on loopback with small buffers: the writer's room opens as the reader reads, a few
  // bytes at a time, as with a slow client.
  static SocketPair tcp(int bufsize) {
    SocketPair p;
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

  // Appends to `dst` up to `max` bytes of what has arrived.
  void read_some(std::string& dst, size_t max = SIZE_MAX) {
    char buf[16384];
    while (max > 0) {
      ssize_t n = ::read(out.get(), buf, std::min(sizeof buf, max));
      if (n <= 0) {
        REQUIRE((n < 0 && errno == EAGAIN));
        return;
      }
      dst.append(buf, static_cast<size_t>(n));
      max -= static_cast<size_t>(n);
    }
  }

  // Waits up to 100 ms for bytes to arrive.
  void wait_readable() {
    pollfd p{out.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
  }
};

// Writes everything `b` holds through `sp` and returns every byte that arrived, including those
// in flight (`got` bytes already read are counted as arrived).
std::string drain(BodyBuffer& b, SocketPair& sp, size_t in_flight = 0) {
  std::string got;
  size_t written = in_flight;
  int stuck = 0;
  while (!b.empty() || got.size() < written) {
    const uint64_t before = b.size();
    if (!b.empty()) {
      ssize_t n = b.write_to(sp.in.get());
      if (n < 0) REQUIRE(errno == EAGAIN);
      if (n >= 0) CHECK(static_cast<uint64_t>(n) == before - b.size());
      written += static_cast<size_t>(before - b.size());
    }
    const size_t had = got.size();
    sp.read_some(got);
    if (b.size() == before && got.size() == had) {
      REQUIRE(++stuck < 100);
      sp.wait_readable();
    } else {
      stuck = 0;
    }
  }
  return got;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Checks equality without printing megabytes: the sizes and the first differing offset.
void check_same(const std::string& got, const std::string& sent) {
  REQUIRE(got.size() == sent.size());
  auto diff = std::mismatch(got.begin(), got.end(), sent.begin());
  CHECK(diff.first - got.begin() == static_cast<std::ptrdiff_t>(got.size()));
}

}  // namespace

TEST_CASE("bytes leave in the order they came, across spills to the file and back to memory") {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    TempDir dir;
    BodyBuffer b;
    b.configure(512, 4096, dir.c_str());
    SocketPair sp = seed % 2 ? SocketPair::tcp(4096) : SocketPair::unix_stream(4096);
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) == 0);
    UniqueFd pipe_r(pipe_fds[0]), pipe_w(pipe_fds[1]);

    std::string sent, got;
    int spills = 0, back_to_memory = 0;
    bool in_file = false;
    while (sent.size() < 256 * 1024) {
      switch (rng() % 5) {
        case 0: {  // append a piece, as much as room() allows
          const size_t n = std::min<uint64_t>(rng() % 700 + 1, b.room());
          const std::string piece = random_bytes(rng, n);
          REQUIRE(b.append(piece));
          sent += piece;
          break;
        }
        case 1: {  // a chunk-size line
          const size_t n = rng() % 100000;
          char line[24];
          std::snprintf(line, sizeof line, "%zx\r\n", n);
          REQUIRE(b.append_chunk_header(n));
          sent += line;
          break;
        }
        case 2: {  // read straight from an fd into memory, only while memory_room() allows
          const size_t n = std::min<size_t>(rng() % 700 + 1, b.memory_room());
          if (n == 0) break;
          const std::string piece = random_bytes(rng, n);
          REQUIRE(::write(pipe_w.get(), piece.data(), n) == static_cast<ssize_t>(n));
          size_t read = 0;
          while (read < n) {
            ssize_t r = b.read_from(pipe_r.get(), n - read);
            REQUIRE(r > 0);
            read += static_cast<size_t>(r);
          }
          sent += piece;
          break;
        }
        case 3: {
          ssize_t n = b.write_to(sp.in.get());
          if (n < 0) REQUIRE(errno == EAGAIN);
          break;
        }
        case 4:
          sp.read_some(got, rng() % 3000);
          break;
      }
      if (b.file_size() > 0 && !in_file) ++spills;
      if (b.file_size() == 0 && in_file) ++back_to_memory;
      in_file = b.file_size() > 0;
      CHECK(b.size() <= 512 + 4096 + 16);  // room() keeps the producer within the limits
    }
    got += drain(b, sp, sent.size() - got.size() - b.size());
    check_same(got, sent);
    CHECK(spills > 2);
    CHECK(back_to_memory > 2);
  }
}

TEST_CASE("room() and memory_room() count memory first, then the file") {
  TempDir dir;
  BodyBuffer b;
  b.configure(100, 1000, dir.c_str());
  CHECK(b.empty());
  CHECK(b.memory_room() == 100);
  CHECK(b.room() == 1100);

  REQUIRE(b.append(std::string(60, 'a')));
  CHECK(b.memory_size() == 60);
  CHECK(b.file_size() == 0);
  CHECK(b.memory_room() == 40);
  CHECK(b.room() == 1040);

  REQUIRE(b.append(std::string(100, 'b')));  // 40 fit in memory, 60 spill
  CHECK(b.memory_size() == 100);
  CHECK(b.file_size() == 60);
  CHECK(b.size() == 160);
  CHECK(b.memory_room() == 0);
  CHECK(b.room() == 940);

  SUBCASE("once everything has drained, memory fills first again") {
    auto sp = SocketPair::unix_stream();
    check_same(drain(b, sp), std::string(60, 'a') + std::string(100, 'b'));
    REQUIRE(b.append(std::string(150, 'c')));
    CHECK(b.memory_size() == 100);
    CHECK(b.file_size() == 50);
    CHECK(b.memory_room() == 0);
  }
  SUBCASE("room() reaches 0 at memory_limit + file_limit") {
    REQUIRE(b.append(std::string(940, 'c')));
    CHECK(b.room() == 0);
    CHECK(b.file_size() == 1000);
  }
}

TEST_CASE("while the file holds bytes, new bytes go behind them even if memory has drained") {
  TempDir dir;
  BodyBuffer b;
  b.configure(100, 1 << 20, dir.c_str());
  std::mt19937 rng(11);
  const std::string first = random_bytes(rng, 200000);
  REQUIRE(b.append(first));
  auto sp = SocketPair::unix_stream(4096);
  std::string got;
  REQUIRE(b.write_to(sp.in.get()) > 0);  // the socket fills before the file is through
  REQUIRE(b.memory_size() == 0);
  REQUIRE(b.file_size() > 0);
  CHECK(b.memory_room() == 0);

  const uint64_t in_file = b.file_size();
  const std::string second = random_bytes(rng, 10);
  REQUIRE(b.append(second));
  CHECK(b.memory_size() == 0);
  CHECK(b.file_size() == in_file + 10);
  sp.read_some(got);
  got += drain(b, sp);
  check_same(got, first + second);
}

TEST_CASE("a drained file is truncated and the next bytes go to memory") {
  TempDir dir;
  BodyBuffer b;
  b.configure(100, 1000, dir.c_str());
  REQUIRE(b.append(std::string(300, 'x')));
  CHECK(b.file_size() == 200);
  CHECK(open_file_sizes_in(dir.path()) == std::vector<uint64_t>{200});

  auto sp = SocketPair::unix_stream();
  check_same(drain(b, sp), std::string(300, 'x'));
  CHECK(b.empty());
  CHECK(b.file_size() == 0);
  CHECK(open_file_sizes_in(dir.path()) == std::vector<uint64_t>{0});

  REQUIRE(b.append(std::string(50, 'y')));
  CHECK(b.memory_size() == 50);
  CHECK(b.file_size() == 0);
  CHECK(b.memory_room() == 50);
  check_same(drain(b, sp), std::string(50, 'y'));
}

// A client that drains slower than the backend fills never lets the file empty: the bytes already
// sent are freed on disk (holes punched), so the disk space stays near file_limit.
TEST_CASE("the temporary file stays within file_limit on disk while a slow client keeps it full") {
  constexpr uint64_t kFileLimit = 64 * 1024;
  TempDir dir;
  BodyBuffer b;
  b.configure(256, kFileLimit, dir.c_str());
  SocketPair sp = SocketPair::tcp(4096);
  std::string sent, got;
  std::mt19937 rng(7);
  uint64_t largest = 0, least_in_file = UINT64_MAX;
  // The producer tops the buffer up to room() after every read the client makes: the file holds
  // bytes all the time, as with a backend faster than its client.
  for (int i = 0; i < 300; ++i) {
    const std::string piece = random_bytes(rng, static_cast<size_t>(b.room()));
    REQUIRE(b.append(piece));
    sent += piece;
    sp.read_some(got, 4000);
    ssize_t n = b.write_to(sp.in.get());
    if (n < 0) REQUIRE(errno == EAGAIN);
    if (i > 0) least_in_file = std::min(least_in_file, b.file_size());
    for (uint64_t s : open_file_sizes_in(dir.path(), true)) largest = std::max(largest, s);
  }
  REQUIRE(least_in_file > 0);
  REQUIRE(sent.size() > 4 * kFileLimit);
  got += drain(b, sp, sent.size() - got.size() - b.size());
  check_same(got, sent);
  // The holes go in steps of a quarter of the limit, aligned to 4 KiB blocks.
  CHECK(largest <= kFileLimit + kFileLimit / 4 + 2 * 4096);
  MESSAGE("largest temporary file: ", largest, " bytes for a limit of ", kFileLimit);
}

TEST_CASE("read_from reads straight from an fd into memory") {
  TempDir dir;
  BodyBuffer b;
  b.configure(1024, 0, dir.c_str());
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  UniqueFd r(fds[0]), w(fds[1]);

  errno = 0;
  CHECK(b.read_from(r.get(), 100) == -1);
  CHECK(errno == EAGAIN);
  CHECK(b.empty());

  REQUIRE(::write(w.get(), "hello world", 11) == 11);
  CHECK(b.read_from(r.get(), 5) == 5);
  CHECK(b.memory_size() == 5);
  CHECK(b.read_from(r.get(), 100) == 6);
  CHECK(b.memory_size() == 11);
  CHECK(b.memory_room() == 1024 - 11);
  w.reset();
  CHECK(b.read_from(r.get(), 100) == 0);  // EOF
  CHECK(b.size() == 11);

  auto sp = SocketPair::unix_stream();
  CHECK(drain(b, sp) == "hello world");
}

TEST_CASE("reset() drops memory and file, and the buffer serves again") {
  TempDir dir;
  BodyBuffer b;
  b.configure(100, 1000, dir.c_str());
  REQUIRE(b.append(std::string(500, 'o')));
  REQUIRE(b.file_size() == 400);

  b.reset();
  CHECK(b.empty());
  CHECK(b.memory_size() == 0);
  CHECK(b.file_size() == 0);
  CHECK(b.room() == 1100);
  CHECK(open_file_sizes_in(dir.path()).empty());

  std::mt19937 rng(3);
  const std::string again = random_bytes(rng, 700);
  REQUIRE(b.append(again));
  CHECK(b.memory_size() == 100);
  CHECK(b.file_size() == 600);
  auto sp = SocketPair::unix_stream();
  check_same(drain(b, sp), again);
}

TEST_CASE("file_limit 0 never creates a file: memory grows instead") {
  TempDir dir;
  BodyBuffer b;
  b.configure(100, 0, dir.c_str());
  REQUIRE(b.append(std::string(1000, 'm')));
  REQUIRE(b.append_chunk_header(0x1f));
  CHECK(b.file_size() == 0);
  CHECK(b.memory_size() == 1004);
  CHECK(b.room() == 0);
  CHECK(b.memory_room() == 0);
  CHECK(open_file_sizes_in(dir.path()).empty());
  auto sp = SocketPair::unix_stream();
  check_same(drain(b, sp), std::string(1000, 'm') + "1f\r\n");
}

TEST_CASE("write_to on an empty buffer writes nothing") {
  BodyBuffer b;
  auto sp = SocketPair::unix_stream();
  CHECK(b.write_to(sp.in.get()) == 0);
}

TEST_CASE("an unusable temp_dir fails the append that must spill") {
  TempDir dir;
  const std::string missing = dir.path() + "/missing";
  BodyBuffer b;
  b.configure(10, 1000, missing.c_str());
  CHECK(b.append(std::string(10, 'a')));
  CHECK_FALSE(b.append(std::string(10, 'b')));
}
