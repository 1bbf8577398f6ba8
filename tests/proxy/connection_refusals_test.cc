// SPDX-License-Identifier: MIT
// ConnectionRefusals: refused connections are counted, and logged at most once a second.
#include "proxy/connection_refusals.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using proxy::ConnectionRefusals;
using Limit = ConnectionRefusals::Limit;

TEST_CASE("the first refusal is logged, the rest of its second are counted for the next line") {
  ConnectionRefusals r;
  auto first = r.note(Limit::kPerClient, 100);
  CHECK(first.log);
  CHECK(first.suppressed == 0);
  CHECK(first.total == 1);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(r.note(Limit::kPerClient, 100).log);
  CHECK_FALSE(r.note(Limit::kMaxConnections, 100).log);  // one line a second, whatever the limit
  auto next = r.note(Limit::kPerClient, 101);
  CHECK(next.log);
  CHECK(next.suppressed == 6);
  CHECK(next.total == 7);
  CHECK(r.count(Limit::kPerClient) == 7);
  CHECK(r.count(Limit::kMaxConnections) == 1);
  auto later = r.note(Limit::kMaxConnections, 500);
  CHECK(later.log);
  CHECK(later.suppressed == 0);
}

TEST_CASE("refusals from many threads are all counted, and logged once per second") {
  ConnectionRefusals r;
  std::atomic<int> lines{0};
  std::atomic<uint64_t> accounted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        auto n = r.note(Limit::kMaxConnections, 7 + i / 2500);
        if (n.log) {
          ++lines;
          accounted += 1 + n.suppressed;
        }
      }
    });
  for (auto& t : threads) t.join();
  CHECK(r.count(Limit::kMaxConnections) == 40000);
  CHECK(lines.load() <= 4);
  CHECK(lines.load() >= 1);
  // The refusals after the last line are what the next line would report.
  auto n = r.note(Limit::kMaxConnections, 1000);
  CHECK(accounted.load() + n.suppressed == 40000);
}
