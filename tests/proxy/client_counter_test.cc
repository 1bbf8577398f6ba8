// SPDX-License-Identifier: MIT
// ClientCounter: open connections per client IP (limits.max_connections_per_client).
#include "proxy/client_counter.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using proxy::ClientCounter;

namespace {

sockaddr_storage v4(const char* ip, uint16_t port = 40000) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, ip, &sin->sin_addr) == 1);
  return ss;
}

sockaddr_storage v6(const char* ip, uint16_t port = 40000) {
  sockaddr_storage ss{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1);
  return ss;
}

sockaddr_storage unix_peer() {
  sockaddr_storage ss{};
  reinterpret_cast<sockaddr_un*>(&ss)->sun_family = AF_UNIX;
  return ss;
}

const sockaddr* sa(const sockaddr_storage& ss) {
  return reinterpret_cast<const sockaddr*>(&ss);
}

}  // namespace

TEST_CASE("a client gets up to `limit` connections, and one more after a release") {
  ClientCounter counter;
  const auto a = v4("192.0.2.1");
  CHECK(counter.acquire(sa(a), 2));
  CHECK(counter.acquire(sa(a), 2));
  CHECK_FALSE(counter.acquire(sa(a), 2));
  CHECK_FALSE(counter.acquire(sa(a), 2));  // a refusal counts nothing
  counter.release(sa(a));
  CHECK(counter.acquire(sa(a), 2));
  CHECK_FALSE(counter.acquire(sa(a), 2));
}

TEST_CASE("the limit is per IP: ports do not matter, other IPs are not affected") {
  ClientCounter counter;
  SUBCASE("IPv4") {
    CHECK(counter.acquire(sa(v4("192.0.2.1", 1000)), 1));
    CHECK_FALSE(counter.acquire(sa(v4("192.0.2.1", 2000)), 1));
    CHECK(counter.acquire(sa(v4("192.0.2.2", 1000)), 1));
  }
  SUBCASE("IPv6") {
    CHECK(counter.acquire(sa(v6("2001:db8::1", 1000)), 1));
    CHECK_FALSE(counter.acquire(sa(v6("2001:db8::1", 2000)), 1));
    CHECK(counter.acquire(sa(v6("2001:db8::2")), 1));
    CHECK(counter.acquire(sa(v6("2001:db9::1")), 1));
  }
}

TEST_CASE("an IPv4-mapped IPv6 address counts as the IPv4 address") {
  ClientCounter counter;
  CHECK(counter.acquire(sa(v4("198.51.100.7")), 2));
  CHECK(counter.acquire(sa(v6("::ffff:198.51.100.7")), 2));
  CHECK_FALSE(counter.acquire(sa(v4("198.51.100.7")), 2));
  CHECK_FALSE(counter.acquire(sa(v6("::ffff:198.51.100.7")), 2));
  counter.release(sa(v6("::ffff:198.51.100.7")));
  CHECK(counter.acquire(sa(v4("198.51.100.7")), 2));
}

TEST_CASE("UNIX socket peers are never limited") {
  ClientCounter counter;
  const auto u = unix_peer();
  for (int i = 0; i < 1000; ++i) REQUIRE(counter.acquire(sa(u), 1));
  counter.release(sa(u));
}

TEST_CASE("a release without an acquire changes nothing") {
  ClientCounter counter;
  const auto a = v4("192.0.2.9");
  counter.release(sa(a));
  CHECK(counter.acquire(sa(a), 1));
  CHECK_FALSE(counter.acquire(sa(a), 1));
}

TEST_CASE("threads acquiring and releasing concurrently never exceed the limit nor lose counts") {
  ClientCounter counter;
  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  constexpr uint64_t kLimit = 3;
  std::vector<sockaddr_storage> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(v4(("10.0.0." + std::to_string(i)).c_str()));
  clients.push_back(v6("2001:db8::42"));

  std::vector<std::atomic<int>> held(clients.size());
  std::atomic<int> over{0}, granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const size_t c = static_cast<size_t>(t + i) % clients.size();
        if (!counter.acquire(sa(clients[c]), kLimit)) continue;
        ++granted;
        if (held[c].fetch_add(1) + 1 > static_cast<int>(kLimit)) ++over;
        held[c].fetch_sub(1);
        counter.release(sa(clients[c]));
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(over == 0);
  CHECK(granted > 0);
  // Every count went back to zero: each client gets exactly `limit` again.
  for (const auto& c : clients) {
    for (uint64_t i = 0; i < kLimit; ++i) CHECK(counter.acquire(sa(c), kLimit));
    CHECK_FALSE(counter.acquire(sa(c), kLimit));
  }
}
