// SPDX-License-Identifier: MIT
#include "cache/object_table.h"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

namespace {

struct Item {
  cache::CacheKey k;
  int variant = 0;
  const cache::CacheKey& key() const { return k; }
};

std::shared_ptr<Item> item(uint64_t hi, uint64_t lo, int variant = 0) {
  return std::make_shared<Item>(Item{cache::CacheKey{hi, lo}, variant});
}

}  // namespace

TEST_CASE("the object table finds every entry after removals inside a colliding run") {
  cache::ObjectTable<Item> t;
  // Every key has the same home slot, and the run wraps around the end of the table.
  for (uint64_t i = 0; i < 10; ++i) t.insert(item(i, (i << 32) | 15));
  REQUIRE(t.size() == 10);
  for (uint64_t i : {3u, 0u, 7u}) {
    auto* s = t.find(cache::CacheKey{i, (i << 32) | 15});
    REQUIRE(s);
    CHECK(t.erase(*s)->k.hi == i);
  }
  CHECK(t.size() == 7);
  for (uint64_t i = 0; i < 10; ++i) {
    const bool gone = i == 3 || i == 0 || i == 7;
    CHECK((t.find(cache::CacheKey{i, (i << 32) | 15}) == nullptr) == gone);
  }
}

TEST_CASE("the object table keeps several entries of one key apart and grows") {
  cache::ObjectTable<Item> t;
  const cache::CacheKey k{1, 2};
  for (int v = 0; v < 5; ++v) t.insert(std::make_shared<Item>(Item{k, v}));
  for (uint64_t i = 0; i < 1000; ++i) t.insert(item(i + 10, i * 0x9e3779b97f4a7c15ull));
  int seen = 0;
  t.for_key(k, [&](const Item&) { ++seen; });
  CHECK(seen == 5);
  auto* third = t.find(k, [](const Item& it) { return it.variant == 3; });
  REQUIRE(third);
  t.erase(*third);
  CHECK(t.find(k, [](const Item& it) { return it.variant == 3; }) == nullptr);
  CHECK(t.find(k, [](const Item& it) { return it.variant == 4; }) != nullptr);
  for (uint64_t i = 0; i < 1000; ++i) CHECK(t.find(cache::CacheKey{i + 10, i * 0x9e3779b97f4a7c15ull}));
  CHECK(t.size() == 1004);
}
