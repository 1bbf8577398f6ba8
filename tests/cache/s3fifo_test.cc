// SPDX-License-Identifier: MIT
#include "cache/s3fifo.h"

#include <doctest/doctest.h>

#include <vector>

#include "bench/eviction/workload.h"
#include "cache/lru.h"

namespace {

struct Node : cache::EvictionNode {
  int id = 0;
};

std::vector<Node> nodes(int n) {
  std::vector<Node> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    v[static_cast<size_t>(i)].id = i;
    v[static_cast<size_t>(i)].hash =
        static_cast<uint32_t>((static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull) >> 32) | 1;
    v[static_cast<size_t>(i)].charge = 1;
  }
  return v;
}

// Evicts until the policy fits |capacity|; returns the ids evicted, in order.
std::vector<int> evict(cache::EvictionPolicy& p, uint64_t capacity) {
  std::vector<int> out;
  while (p.bytes() > capacity) {
    int id = -1;
    cache::EvictionNode* v =
        p.victim([&](const cache::EvictionNode* n) { id = static_cast<const Node*>(n)->id; });
    if (!v) break;
    p.remove(v, true);
    out.push_back(id);
  }
  return out;
}

}  // namespace

TEST_CASE("S3-FIFO evicts a new object never hit before one that was hit") {
  cache::S3Fifo p(10);
  auto v = nodes(11);
  for (int i = 0; i < 10; ++i) p.insert(&v[static_cast<size_t>(i)]);
  p.touch(&v[0]);  // the oldest, but hit while in the small queue
  p.insert(&v[10]);
  const auto gone = evict(p, 10);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0] == 1);  // not 0: it moved to main
  for (auto& n : v) p.remove(&n, false);
}

TEST_CASE("S3-FIFO sends an object evicted from the small queue to main when it comes back") {
  cache::S3Fifo p(4);
  auto v = nodes(6);
  for (int i = 0; i < 5; ++i) p.insert(&v[static_cast<size_t>(i)]);
  auto gone = evict(p, 4);
  REQUIRE(gone == std::vector<int>{0});
  // 0 returns: the ghost remembers it, so it enters main and outlives the small queue.
  p.insert(&v[0]);
  p.insert(&v[5]);
  gone = evict(p, 4);
  CHECK(std::find(gone.begin(), gone.end(), 0) == gone.end());
  for (auto& n : v) p.remove(&n, false);
}

TEST_CASE("S3-FIFO counts hits without a lock and saturates the counter") {
  cache::S3Fifo p(4);
  auto v = nodes(1);
  p.insert(&v[0]);
  for (int i = 0; i < 10; ++i) p.touch(&v[0]);
  CHECK(v[0].freq.load() == 3);
  p.remove(&v[0], false);
  CHECK(p.bytes() == 0);
  CHECK(p.victim(nullptr) == nullptr);
}

TEST_CASE("removing a node that is not linked does nothing") {
  cache::S3Fifo s(4);
  cache::Lru l(4);
  auto v = nodes(1);
  s.remove(&v[0], false);
  l.remove(&v[0], false);
  CHECK(s.bytes() == 0);
  CHECK(l.bytes() == 0);
}

TEST_CASE("LRU evicts the least recently used") {
  cache::Lru p(3);
  auto v = nodes(4);
  for (int i = 0; i < 3; ++i) p.insert(&v[static_cast<size_t>(i)]);
  p.touch(&v[0]);
  p.insert(&v[3]);
  CHECK(evict(p, 3) == std::vector<int>{1});
  for (auto& n : v) p.remove(&n, false);
}

TEST_CASE("S3-FIFO's hit ratio beats LRU's on a Zipf workload with a scan mixed in") {
  eviction_bench::Workload w;
  w.keys = 20'000;
  w.alpha = 0.9;
  w.requests = 200'000;
  w.scan_share = 0.3;
  w.scan_length = 5'000;
  const auto reqs = eviction_bench::generate(w);
  constexpr uint64_t kCache = 2'000;
  cache::S3Fifo s3(kCache);
  cache::Lru lru(kCache);
  const double a = eviction_bench::hit_ratio(s3, kCache, reqs);
  const double b = eviction_bench::hit_ratio(lru, kCache, reqs);
  MESSAGE("S3-FIFO " << a << ", LRU " << b);
  CHECK(a > b + 0.02);
}
