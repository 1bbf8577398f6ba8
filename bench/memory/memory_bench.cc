// SPDX-License-Identifier: MIT
// memory_bench: the memory tier's cost per small object (issue 10: at most 256 bytes per object
// beyond bodies and headers, with 1,000,000 objects). Stores N objects (100-byte body, a ~75-byte
// field block, host and path: a realistic small hit) into a MemoryStorage with room for all of
// them, then prints the heap (mallinfo2) and RSS growth per object, beyond the body and head
// bytes, and the size of each per-object structure so the figure can be taken apart.
//   build/bench/memory_bench [objects]   (default 1000000)
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cache/cache_key.h"
#include "cache/eviction.h"
#include "cache/memory_object.h"
#include "cache/memory_storage.h"

namespace {

size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Resident set size in bytes (/proc/self/statm, second field, pages).
size_t rss() {
  std::ifstream f("/proc/self/statm");
  size_t total = 0, resident = 0;
  f >> total >> resident;
  return resident * 4096;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [objects]\n", argv[0]);
    return 2;
  }
  const std::string body(100, 'b');
  const std::string fields =
      "Content-Type: text/html\r\nETag: \"abc\"\r\nCache-Control: public, max-age=60\r\n";
  const size_t heap0 = heap_in_use();
  const size_t rss0 = rss();
  uint64_t bytes = 0;  // body and head text
  cache::MemoryStorage storage(64ull << 30, 1 << 20);
  char path[32];
  for (long i = 0; i < n; ++i) {
    const int len = std::snprintf(path, sizeof(path), "/assets/%ld.css", i);
    const cache::CacheKey key =
        cache::make_key("https", "example.com", {path, size_t(len)}, "", false, false);
    cache::ObjectHead head;
    head.fields = fields;
    head.host = "example.com";
    head.path.assign(path, static_cast<size_t>(len));
    head.body_size = body.size();
    bytes += body.size() + cache::StoredHead::text_size(head);
    auto w = storage.begin(key, std::move(head), static_cast<uint64_t>(i + 1));
    if (!w || !w->append(body.data(), body.size()) || !w->commit()) {
      std::fprintf(stderr, "store %ld failed\n", i);
      return 1;
    }
  }
  const double heap = static_cast<double>(heap_in_use() - heap0);
  const double grown = static_cast<double>(rss() - rss0);
  const double per = static_cast<double>(n);
  std::printf("objects stored          %ld (tier counts %llu)\n", n,
              static_cast<unsigned long long>(storage.stats().objects.load()));
  std::printf("body + head bytes       %.1f B/object\n", static_cast<double>(bytes) / per);
  std::printf("heap growth (mallinfo2) %.1f B/object, beyond body+head %.1f B\n", heap / per,
              (heap - static_cast<double>(bytes)) / per);
  std::printf("RSS growth              %.1f B/object, beyond body+head %.1f B\n", grown / per,
              (grown - static_cast<double>(bytes)) / per);
  std::printf("target                  <= 256 B/object beyond body+head\n");
  std::printf(
      "sizeof: MemoryObject %zu (Object %zu, of it StoredHead %zu, Freshness %zu; "
      "EvictionNode %zu), index slot (ObjectRef) %zu\n",
      sizeof(cache::MemoryObject), sizeof(cache::Object), sizeof(cache::StoredHead),
      sizeof(cache::Freshness), sizeof(cache::EvictionNode), sizeof(cache::ObjectRef));
  return 0;
}
