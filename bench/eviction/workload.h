// SPDX-License-Identifier: MIT
// Deterministic cache workloads (Zipf, Zipf with scans mixed in) replayed against an
// EvictionPolicy, for the hit ratio comparison of S3-FIFO and LRU (bench/eviction, and the unit
// test that holds S3-FIFO to beating LRU on the scan-mixed workload).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cache/eviction.h"

namespace eviction_bench {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Workload {
  uint64_t keys = 100'000;  // the Zipf-distributed universe
  double alpha = 0.9;       // Zipf exponent
  uint64_t requests = 1'000'000;
  double scan_share = 0.0;        // the part of requests that belong to scans
  uint64_t scan_length = 20'000;  // each scan reads this many never-repeated keys in a row
  uint64_t seed = 42;
};

// The request stream: key ids; scan keys are above the Zipf universe and never repeat.
inline std::vector<uint64_t> generate(const Workload& w) {
  std::vector<double> cdf(w.keys);
  double sum = 0;
  for (uint64_t r = 0; r < w.keys; ++r) {
    sum += 1.0 / std::pow(static_cast<double>(r + 1), w.alpha);
    cdf[r] = sum;
  }
  uint64_t rng = w.seed;
  std::vector<uint64_t> out;
  out.reserve(w.requests);
  uint64_t next_scan_key = w.keys;
  // Scans come as bursts: a burst starts with the probability that keeps their share right.
  const double burst_p =
      w.scan_share > 0 ? w.scan_share / ((1 - w.scan_share) * static_cast<double>(w.scan_length))
                       : 0;
  while (out.size() < w.requests) {
    const double u = static_cast<double>(splitmix64(rng) >> 11) * 0x1.0p-53;
    if (u < burst_p) {
      for (uint64_t i = 0; i < w.scan_length && out.size() < w.requests; ++i)
        out.push_back(next_scan_key++);
      continue;
    }
    const double x = static_cast<double>(splitmix64(rng) >> 11) * 0x1.0p-53 * sum;
    out.push_back(static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin()));
  }
  return out;
}

// Replays |requests| on a cache of |capacity| unit-sized objects evicted by |policy|; returns
// the hit ratio.
inline double hit_ratio(cache::EvictionPolicy& policy, uint64_t capacity,
                        const std::vector<uint64_t>& requests) {
  struct Node : cache::EvictionNode {
    uint64_t key = 0;
  };
  policy.set_capacity(capacity);
  std::unordered_map<uint64_t, std::unique_ptr<Node>> resident;
  resident.reserve(capacity * 2);
  uint64_t hits = 0;
  for (uint64_t k : requests) {
    if (auto it = resident.find(k); it != resident.end()) {
      ++hits;
      policy.touch(it->second.get());
      continue;
    }
    auto n = std::make_unique<Node>();
    n->key = k;
    uint64_t h = k;
    n->hash = splitmix64(h) | 1;
    n->charge = 1;
    policy.insert(n.get());
    resident.emplace(k, std::move(n));
    while (policy.bytes() > capacity) {
      uint64_t victim_key = 0;
      cache::EvictionNode* v = policy.victim(
          [&](const cache::EvictionNode* e) { victim_key = static_cast<const Node*>(e)->key; });
      if (!v) break;
      policy.remove(v, true);
      resident.erase(victim_key);
    }
  }
  for (auto& [k, n] : resident) policy.remove(n.get(), false);
  return requests.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(requests.size());
}

}  // namespace eviction_bench
