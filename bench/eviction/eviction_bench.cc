// SPDX-License-Identifier: MIT
// eviction_bench: hit ratios of S3-FIFO and plain LRU on Zipf workloads, with and without scans
// mixed in (issue 10). Deterministic (fixed seed); a simulation, no I/O.
#include <cstdio>

#include "bench/eviction/workload.h"
#include "cache/lru.h"
#include "cache/s3fifo.h"

int main() {
  constexpr uint64_t kKeys = 100'000;
  std::printf("%-7s %-6s %-9s %9s %9s %9s\n", "alpha", "scan", "cache", "S3-FIFO", "LRU", "delta");
  for (double alpha : {0.8, 0.9, 1.0}) {
    for (double scan : {0.0, 0.3}) {
      for (uint64_t cache_size : {kKeys / 100, kKeys / 10}) {
        eviction_bench::Workload w;
        w.keys = kKeys;
        w.alpha = alpha;
        w.scan_share = scan;
        const auto reqs = eviction_bench::generate(w);
        cache::S3Fifo s3(cache_size);
        cache::Lru lru(cache_size);
        const double a = eviction_bench::hit_ratio(s3, cache_size, reqs);
        const double b = eviction_bench::hit_ratio(lru, cache_size, reqs);
        std::printf("%-7.1f %4.0f%%  %-9llu %8.2f%% %8.2f%% %+8.2f\n", alpha, scan * 100,
                    static_cast<unsigned long long>(cache_size), a * 100, b * 100, (a - b) * 100);
      }
    }
  }
  return 0;
}
