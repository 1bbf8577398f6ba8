// SPDX-License-Identifier: MIT
// Issue 10's memory target: with 1,000,000 small objects cached, the memory beyond their bodies
// and headers is at most 256 bytes per object. Its own suite: it stores a million objects.
#include <doctest/doctest.h>
#include <malloc.h>

#include <cstdio>
#include <string>

#include "cache/cache_key.h"
#include "cache/memory_storage.h"

namespace {

constexpr int kObjects = 1'000'000;

size_t heap_in_use() {
  return mallinfo2().uordblks;
}

}  // namespace

TEST_CASE("a million small objects cost at most 256 bytes each beyond their bodies and heads") {
  const std::string body(100, 'b');
  const std::string fields =
      "Content-Type: text/html\r\nETag: \"abc\"\r\nCache-Control: public, max-age=60\r\n";
  const size_t before = heap_in_use();
  uint64_t content = 0;
  {
    cache::MemoryStorage storage(8ull << 30, 1 << 20);
    char path[32];
    for (int i = 0; i < kObjects; ++i) {
      const int n = std::snprintf(path, sizeof(path), "/assets/%d.css", i);
      const cache::CacheKey key =
          cache::make_key("https", "example.com", {path, size_t(n)}, "", false, false);
      cache::ObjectHead head;
      head.fields = fields;
      head.host = "example.com";
      head.path.assign(path, static_cast<size_t>(n));
      head.body_size = body.size();
      content += body.size() + head.fields.size() + head.host.size() + head.path.size();
      auto w = storage.begin(key, std::move(head), static_cast<uint64_t>(i + 1));
      REQUIRE(w);
      REQUIRE(w->append(body.data(), body.size()));
      REQUIRE(w->commit());
    }
    REQUIRE(storage.stats().objects.load() == kObjects);
    const size_t after = heap_in_use();
    const double per_object =
        (static_cast<double>(after - before) - static_cast<double>(content)) / kObjects;
    MESSAGE("overhead per object: " << per_object << " bytes (beyond " << content / kObjects
                                    << " bytes of body and head)");
    CHECK(per_object <= 256.0);
  }
}
