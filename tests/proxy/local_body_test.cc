// SPDX-License-Identifier: MIT
// MemoryBody and FileBody, the local body producers, driven the way the downstream drives any
// producer: a fake HTTP/1.1 side (write_to a socket) and a fake HTTP/2 side (move_to in DATA-sized
// pieces, with a bounded output), over real sockets.
#include <doctest/doctest.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "proxy/base/event_handles.h"
#include "proxy/base/unique_fd.h"
#include "proxy/body_producer.h"
#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/file_body.h"
#include "proxy/memory_body.h"
#include "tests/proxy/test_util.h"

using proxy::Exchange;
using proxy::FileBody;
using proxy::MemoryBody;
using proxy::base::EvbufferPtr;
using proxy::base::UniqueFd;
using proxy::test::TempDir;

namespace {

// The downstream's side of the contract: send what ex.out holds as the socket takes it, then tell
// the producer (after every write, as HTTP/1.1 step_write and HTTP/2 send_data do).
class FakeDownstream final : public proxy::Downstream {
 public:
  FakeDownstream(Exchange& ex, bool h2) : ex_(ex), h2_(h2), frames_(evbuffer_new()) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    in_.reset(fds[0]);
    out_.reset(fds[1]);
    int sndbuf = 16384;  // a slow client: many partial writes
    ::setsockopt(in_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    ex.downstream = this;
  }

  void read_body() override {}
  void body_taken() override {}
  void output_ready() override {
    ++ready_calls;
    drive();
  }
  void upgrade(proxy::io::Transport&&, std::string_view) override {}
  const sockaddr* peer() const override { return nullptr; }
  const proxy::ListenerRef& listener() const override { std::abort(); }
  bool tls() const override { return false; }
  bool http2() const override { return h2_; }

  // The socket became writable (or output is announced): one turn, re-entrant calls folded in.
  void drive() {
    if (driving_) {
      again_ = true;
      return;
    }
    driving_ = true;
    do {
      again_ = false;
      step();
    } while (again_);
    driving_ = false;
  }

  // Reads what arrived; false if nothing did.
  bool read() {
    char buf[65536];
    bool any = false;
    for (;;) {
      ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n <= 0) {
        REQUIRE((n < 0 && errno == EAGAIN));
        return any;
      }
      got.append(buf, static_cast<size_t>(n));
      any = true;
    }
  }

  // Drives until the body is whole, or nothing moves any more (a source waiting for bytes).
  void run() {
    int idle = 0;
    while (!finished && idle < 5) {
      drive();
      const bool moved = read();
      if (!moved) {
        ++idle;
        pollfd p{out_.get(), POLLIN, 0};
        ::poll(&p, 1, 10);
      } else {
        idle = 0;
      }
    }
    read();
  }

  std::string got;
  int ready_calls = 0;
  bool finished = false;
  uint64_t max_memory = 0;  // the most ex.out held in memory at once
  uint64_t max_file = 0;    // ... and in a file (temporary or range)

 private:
  void step() {
    max_memory = std::max<uint64_t>(max_memory, ex_.out.memory_size());
    max_file = std::max<uint64_t>(max_file, ex_.out.file_size());
    if (!h2_) {
      while (!ex_.out.empty()) {
        ssize_t n = ex_.out.write_to(in_.get());
        if (n < 0) {
          REQUIRE(errno == EAGAIN);
          break;
        }
      }
    } else {
      // DATA frames of at most 16 KiB while the connection's output stays under 64 KiB.
      for (;;) {
        if (evbuffer_get_length(frames_.get()) > 0) {
          if (evbuffer_write(frames_.get(), in_.get()) < 0) REQUIRE(errno == EAGAIN);
        }
        if (ex_.out.empty() || evbuffer_get_length(frames_.get()) >= 65536) break;
        REQUIRE(ex_.out.move_to(frames_.get(), 16384) > 0);
      }
    }
    if (ex_.producer) ex_.producer->output_drained();
    if (ex_.out.empty() && ex_.upstream_done && evbuffer_get_length(frames_.get()) == 0)
      finished = true;
  }

  Exchange& ex_;
  bool h2_;
  EvbufferPtr frames_;
  UniqueFd in_, out_;
  bool driving_ = false;
  bool again_ = false;
};

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

// Undoes chunked framing (sizes in hex, CRLF after each chunk, a 0 chunk last).
std::string dechunk(const std::string& s, bool& ok) {
  std::string body;
  size_t pos = 0;
  ok = false;
  for (;;) {
    const size_t eol = s.find("\r\n", pos);
    if (eol == std::string::npos) return body;
    const size_t n = std::strtoull(s.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (n == 0) {
      ok = s.substr(pos) == "\r\n";
      return body;
    }
    if (pos + n + 2 > s.size() || s.compare(pos + n, 2, "\r\n") != 0) return body;
    body.append(s, pos, n);
    pos += n + 2;
  }
}

// A cached object's body as blocks of various sizes (some below the copy threshold).
struct Blocks {
  std::vector<std::string> blocks;
  std::string whole;
  explicit Blocks(unsigned seed) {
    const size_t sizes[] = {65536, 100, 200000, 3000, 65536, 1, 131072, 7};
    for (size_t n : sizes) {
      blocks.push_back(pattern(n, seed++));
      whole += blocks.back();
    }
  }
  static std::string_view at(const void* owner, uint64_t offset) {
    const auto& self = *static_cast<const Blocks*>(owner);
    for (const auto& b : self.blocks) {
      if (offset < b.size()) return std::string_view(b).substr(static_cast<size_t>(offset));
      offset -= b.size();
    }
    return {};
  }
};

// What the deliver stage and the pipeline do: the head first, then the producer's first call.
void deliver(Exchange& ex, FakeDownstream& down, const std::string& head) {
  REQUIRE(ex.out.append(head));
  const int before = down.ready_calls;
  ex.producer->output_drained();
  CHECK(down.ready_calls > before);  // the first call always hands the output over
}

UniqueFd file_with(const TempDir& dir, const std::string& content) {
  const std::string path = dir.path() + "/body";
  UniqueFd w(::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600));
  REQUIRE(w);
  REQUIRE(::write(w.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  UniqueFd r(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ::unlink(path.c_str());
  return r;
}

}  // namespace

TEST_CASE("a memory body reaches the client whole, behind the head, within the output's room") {
  for (bool h2 : {false, true}) {
    CAPTURE(h2);
    auto owner = std::make_shared<const Blocks>(1);
    std::weak_ptr<const Blocks> watch = owner;
    auto ex = std::make_unique<Exchange>();
    FakeDownstream down(*ex, h2);
    {
      MemoryBody body;
      body.start(*ex, owner, Blocks::at, owner->whole.size(), true);
      CHECK(ex->producer == &body);
      deliver(*ex, down, "HEAD\r\n\r\n");
      down.run();
      REQUIRE(down.finished);
      CHECK(body.done());
      CHECK(body.position() == owner->whole.size());
    }
    CHECK(ex->upstream_done);
    CHECK_FALSE(ex->aborted);
    CHECK(ex->producer == nullptr);
    check_same(down.got, "HEAD\r\n\r\n" + owner->whole);
    // Backpressure: never the whole body in memory, at most the room plus one run.
    CHECK(down.max_memory <= 256 * 1024 + 64);
    // Every reference was released once sent: only the test holds the blocks now.
    owner.reset();
    CHECK(watch.expired());
  }
}

TEST_CASE("a memory body never copies its bytes to a temporary file, whatever the output allows") {
  TempDir dir;
  auto owner = std::make_shared<const Blocks>(6);
  auto ex = std::make_unique<Exchange>();
  // As the deliver stage leaves it for a backend response: a small memory part, a large file.
  ex->out.configure(32 * 1024, 1 << 30, dir.path().c_str());
  FakeDownstream down(*ex, false);
  MemoryBody body;
  body.start(*ex, owner, Blocks::at, owner->whole.size(), true);
  deliver(*ex, down, "H");
  down.run();
  REQUIRE(down.finished);
  check_same(down.got, "H" + owner->whole);
  CHECK(down.max_file == 0);
  CHECK(down.max_memory <= 32 * 1024 + 64);
}

TEST_CASE("a memory body follows a source that grows, and chunk-frames it when asked") {
  for (bool h2 : {false, true}) {
    CAPTURE(h2);
    auto owner = std::make_shared<const Blocks>(2);
    const uint64_t total = owner->whole.size();
    auto ex = std::make_unique<Exchange>();
    ex->chunked_out = !h2;
    FakeDownstream down(*ex, h2);
    MemoryBody body;
    body.start(*ex, owner, Blocks::at, 70000, false);
    deliver(*ex, down, "H\r\n\r\n");
    down.run();
    CHECK_FALSE(down.finished);
    CHECK(body.position() == 70000);
    body.progress(300000, false);
    down.run();
    CHECK(body.position() == 300000);
    CHECK_FALSE(down.finished);
    body.progress(total, true);
    down.run();
    REQUIRE(down.finished);
    REQUIRE(down.got.substr(0, 5) == "H\r\n\r\n");
    if (h2) {
      check_same(down.got.substr(5), owner->whole);
    } else {
      bool ok = false;
      check_same(dechunk(down.got.substr(5), ok), owner->whole);
      CHECK(ok);
    }
  }
}

TEST_CASE("a memory body whose source fails cuts the response") {
  auto owner = std::make_shared<const Blocks>(3);
  auto ex = std::make_unique<Exchange>();
  FakeDownstream down(*ex, false);
  MemoryBody body;
  body.start(*ex, owner, Blocks::at, 1000, false);
  deliver(*ex, down, "H\r\n\r\n");
  down.run();
  body.fail("fill aborted");
  CHECK(body.done());
  CHECK(ex->aborted);
  CHECK(ex->upstream_done);
  CHECK(ex->producer == nullptr);
  CHECK(std::string(ex->error_detail) == "fill aborted");
}

TEST_CASE("an abandoned memory body lets go of its source once its queued bytes are dropped") {
  auto owner = std::make_shared<const Blocks>(4);
  std::weak_ptr<const Blocks> watch = owner;
  auto ex = std::make_unique<Exchange>();
  FakeDownstream down(*ex, false);
  {
    MemoryBody body;
    body.start(*ex, owner, Blocks::at, owner->whole.size(), true);
    owner.reset();
    deliver(*ex, down, "H\r\n\r\n");
    ex->drop_producer();  // the client went away
    CHECK(body.done());
    CHECK(ex->producer == nullptr);
    CHECK_FALSE(watch.expired());  // references are still queued in ex->out
  }
  ex->out.reset();
  CHECK(watch.expired());
}

TEST_CASE("a file body streams its range with sendfile or move_to, growing as its source does") {
  TempDir dir;
  const std::string content = pattern(3 << 20, 5);
  UniqueFd fd = file_with(dir, content);
  const uint64_t off = 4097;
  const uint64_t len = content.size() - off - 10;
  const std::string expected = content.substr(off, len);
  for (bool h2 : {false, true}) {
    for (bool chunked : {false, true}) {
      if (h2 && chunked) continue;
      CAPTURE(h2);
      CAPTURE(chunked);
      auto owner = std::make_shared<int>(0);
      std::weak_ptr<int> watch = owner;
      auto ex = std::make_unique<Exchange>();
      ex->chunked_out = chunked;
      FakeDownstream down(*ex, h2);
      {
        FileBody body;
        body.start(*ex, fd.get(), off, owner, 1 << 20, false);
        owner.reset();
        deliver(*ex, down, "HEAD\r\n\r\n");
        down.run();
        CHECK(body.position() == 1 << 20);
        CHECK_FALSE(down.finished);
        body.progress(len, true);
        down.run();
        REQUIRE(down.finished);
        CHECK(body.done());
      }
      CHECK(ex->producer == nullptr);
      CHECK(down.max_memory < 64 * 1024);  // file bytes never sit in memory
      REQUIRE(down.got.substr(0, 8) == "HEAD\r\n\r\n");
      if (chunked) {
        bool ok = false;
        check_same(dechunk(down.got.substr(8), ok), expected);
        CHECK(ok);
      } else {
        check_same(down.got.substr(8), expected);
      }
      CHECK(watch.expired());
    }
  }
}

TEST_CASE("a file body of a complete file ends on its own") {
  TempDir dir;
  UniqueFd fd = file_with(dir, "0123456789");
  auto ex = std::make_unique<Exchange>();
  FakeDownstream down(*ex, false);
  FileBody body;
  body.start(*ex, fd.get(), 2, nullptr, 5, true);
  deliver(*ex, down, "H:");
  down.run();
  REQUIRE(down.finished);
  CHECK(down.got == "H:23456");
  CHECK(ex->upstream_done);
}

TEST_CASE("an empty complete body ends at the first call") {
  auto ex = std::make_unique<Exchange>();
  FakeDownstream down(*ex, false);
  FileBody body;
  body.start(*ex, -1, 0, nullptr, 0, true);
  deliver(*ex, down, "H");
  CHECK(body.done());
  CHECK(ex->upstream_done);
  down.run();
  CHECK(down.got == "H");
}
