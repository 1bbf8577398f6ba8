// SPDX-License-Identifier: MIT
// Tunnel: bytes both ways between two sockets, with backpressure, half-close and the idle limit.
#include "proxy/tunnel.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "proxy/event_loop.h"
#include "tests/proxy/test_util.h"

namespace {

using Clock = std::chrono::steady_clock;

// A tunnel between the gatehouse ends of two socketpairs; the tests play the client and the
// backend on the other ends.
struct Rig {
  std::shared_ptr<const proxy::Runtime> runtime = proxy::test::make_runtime({});
  proxy::WorkerShared shared;
  proxy::EventLoop loop{runtime, {}, shared};
  proxy::base::UniqueFd client, backend;  // the test's ends
  timeval idle{0, 300 * 1000};

  // A tunnel still open at the end of a test closes once both its peers are gone.
  ~Rig() {
    client.reset();
    backend.reset();
    spin(2000, [&] { return shared.connections.load() <= 0; });
  }

  proxy::Tunnel* open(const std::string& to_client = "", const std::string& to_backend = "") {
    int a[2], b[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, a) == 0);
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, b) == 0);
    client.reset(a[0]);
    backend.reset(b[0]);
    shared.connections.fetch_add(1);  // as the accept would have counted it
    auto* t = new proxy::Tunnel(loop, proxy::io::Transport(a[1]), proxy::io::Transport(b[1]),
                                nullptr, 0, &idle);
    t->queue_to_a(to_client.data(), to_client.size());
    t->queue_to_b(to_backend.data(), to_backend.size());
    t->start();
    return t;
  }

  // Runs the loop for |ms| (or until |done| says so).
  template <class F>
  bool spin(int ms, F done) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline) {
      event_base_loop(loop.base(), EVLOOP_NONBLOCK);
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  }
  void spin(int ms) {
    spin(ms, [] { return false; });
  }

  // Reads what |fd| has until |n| bytes came or the end (returned with |eof|).
  std::string read(int fd, size_t n, bool* eof = nullptr, int ms = 2000) {
    std::string out;
    bool end = false;
    spin(ms, [&] {
      char buf[65536];
      for (;;) {
        ssize_t k = ::recv(fd, buf, sizeof buf, 0);
        if (k > 0) {
          out.append(buf, static_cast<size_t>(k));
          continue;
        }
        if (k == 0) end = true;
        break;
      }
      return end || out.size() >= n;
    });
    if (eof) *eof = end;
    return out;
  }
};

void send_all(int fd, const std::string& s) {
  REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
}

}  // namespace

TEST_CASE("a tunnel carries bytes both ways, the queued ones first") {
  Rig r;
  r.open("HTTP/1.1 101 Switching Protocols\r\n\r\nhello", "pipelined");
  CHECK(r.read(r.backend.get(), 9) == "pipelined");
  CHECK(r.read(r.client.get(), 40) == "HTTP/1.1 101 Switching Protocols\r\n\r\nhello");
  send_all(r.client.get(), "ping");
  CHECK(r.read(r.backend.get(), 4) == "ping");
  send_all(r.backend.get(), "pong");
  CHECK(r.read(r.client.get(), 4) == "pong");
}

TEST_CASE("an end from one side shuts the other's write side; both done closes the tunnel") {
  Rig r;
  r.open();
  send_all(r.client.get(), "last");
  ::shutdown(r.client.get(), SHUT_WR);
  bool eof = false;
  CHECK(r.read(r.backend.get(), 100, &eof) == "last");
  CHECK(eof);
  // The other direction goes on.
  send_all(r.backend.get(), "reply");
  CHECK(r.read(r.client.get(), 5) == "reply");
  ::shutdown(r.backend.get(), SHUT_WR);
  CHECK(r.read(r.client.get(), 1, &eof).empty());
  CHECK(eof);
  CHECK(r.shared.connections.load() == 0);  // closed, and the client's place given back
}

TEST_CASE("a reader that stops holds the sender back: the tunnel buffers a bounded amount") {
  Rig r;
  r.idle = {10, 0};  // a stalled tunnel moves no byte: it would count as idle
  r.open();
  const std::string piece(65536, 'x');
  size_t taken = 0;
  // The backend reads nothing: write until the client's socket refuses more.
  r.spin(1000, [&] {
    ssize_t k = ::send(r.client.get(), piece.data(), piece.size(), MSG_NOSIGNAL);
    if (k > 0) taken += static_cast<size_t>(k);
    return false;
  });
  // Two socket buffers and the tunnel's bounded output: far less than a second's worth.
  CHECK(taken < 4u * 1024 * 1024);
  CHECK(taken > proxy::Tunnel::kBufferLimit);
  std::string got = r.read(r.backend.get(), taken, nullptr, 5000);
  CHECK(got.size() == taken);
  CHECK(got.find_first_not_of('x') == std::string::npos);
}

TEST_CASE("a tunnel with no byte either way for the idle limit is closed") {
  Rig r;
  r.open();
  r.spin(150);
  send_all(r.client.get(), "a");  // activity restarts the limit
  CHECK(r.read(r.backend.get(), 1) == "a");
  const auto start = Clock::now();
  bool eof = false;
  r.read(r.client.get(), 1, &eof, 3000);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  CHECK(eof);
  CHECK(took.count() >= 200);
  CHECK(took.count() < 2000);
  CHECK(r.shared.connections.load() == 0);
}
