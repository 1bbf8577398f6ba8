// SPDX-License-Identifier: MIT
#include "cache/memory_storage.h"

#include <doctest/doctest.h>

#include "tests/cache/storage_conformance.h"

namespace {

struct MemoryFactory {
  static constexpr uint64_t kCapacity = 1 << 20;
  static std::unique_ptr<cache::Storage> make(const std::string&) {
    return std::make_unique<cache::MemoryStorage>(kCapacity, kCapacity / 4);
  }
};

}  // namespace

TEST_CASE_TEMPLATE_INVOKE(storage_conformance, MemoryFactory);

using storage_conformance_helpers::head_of;
using storage_conformance_helpers::key_of;

TEST_CASE("the memory tier refuses a body over its object limit") {
  cache::MemoryStorage s(1 << 20, 1000);
  CHECK(s.begin(key_of(1), head_of("", 1001), 1) == nullptr);
  auto w = s.begin(key_of(2), head_of("", std::nullopt), 1);
  REQUIRE(w);
  const std::string big(1001, 'x');
  CHECK_FALSE(w->append(big.data(), big.size()));
  CHECK(w->object()->aborted());
}

TEST_CASE("a body longer than its known size is refused") {
  cache::MemoryStorage s(1 << 20, 1 << 20);
  auto w = s.begin(key_of(1), head_of("", 3), 1);
  REQUIRE(w);
  CHECK_FALSE(w->append("four", 4));
  CHECK(w->object()->aborted());
}
