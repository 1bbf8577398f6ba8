// SPDX-License-Identifier: MIT
#include "cache/memory_storage.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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

TEST_CASE("concurrent fills, hits, removals and evictions keep the memory tier consistent") {
  constexpr uint64_t kCapacity = 256 << 10;
  cache::MemoryStorage s(kCapacity, kCapacity / 8);
  const auto any = [](const cache::StoredHead&) { return true; };
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      uint64_t rng = static_cast<uint64_t>(t) + 1;
      for (int i = 0; i < 4000; ++i) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        const int k = static_cast<int>((rng >> 33) % 300);
        const std::string body(static_cast<size_t>(100 + k * 10), static_cast<char>('a' + k % 26));
        switch ((rng >> 20) % 4) {
          case 0:
          case 1:
            if (auto o = s.lookup(key_of(k), any)) {
              if (storage_conformance_helpers::body_of(*o) != body) ++bad;
            }
            break;
          case 2: {
            const bool known = (rng >> 40) % 2;
            storage_conformance_helpers::store(
                s, key_of(k),
                head_of("", known ? std::optional<uint64_t>(body.size()) : std::nullopt), body,
                static_cast<uint64_t>(i));
            break;
          }
          default:
            if ((rng >> 45) % 2) {
              s.remove(key_of(k));
            } else if (auto o = s.lookup(key_of(k), any)) {
              s.remove(o);
            }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
  CHECK(s.stats().bytes.load() <= kCapacity);
  // Everything still stored is consistent with the counters.
  uint64_t found = 0;
  for (int k = 0; k < 300; ++k) found += s.lookup(key_of(k), any) ? 1 : 0;
  CHECK(found == s.stats().objects.load());
}

TEST_CASE("a key keeps a bounded number of variants, dropping the oldest") {
  cache::MemoryStorage s(1 << 20, 1 << 20);
  for (int i = 0; i < 100; ++i) {
    const std::string v = "ua-" + std::to_string(i);
    REQUIRE(storage_conformance_helpers::store(s, key_of(1), head_of("", 1, "user-agent", v), "x",
                                               static_cast<uint64_t>(i + 1)));
  }
  CHECK(s.stats().objects.load() <= cache::MemoryStorage::kMaxVariants);
  const auto is = [](std::string v) {
    return [v](const cache::StoredHead& h) { return h.variant() == v; };
  };
  CHECK(s.lookup(key_of(1), is("ua-99")) != nullptr);
  CHECK(s.lookup(key_of(1), is("ua-0")) == nullptr);
}

TEST_CASE("oldest_sequence is a lower bound of every stored object's sequence") {
  cache::MemoryStorage s(1 << 20, 1 << 20);
  CHECK(s.oldest_sequence() == UINT64_MAX);
  auto a = storage_conformance_helpers::store(s, key_of(1), head_of("", 1), "a", 5000);
  storage_conformance_helpers::store(s, key_of(2), head_of("", 1), "b", 9000);
  CHECK(s.oldest_sequence() <= 5000);
  s.remove(a);
  CHECK(s.oldest_sequence() <= 9000);
  CHECK(s.oldest_sequence() > 5000);
}

TEST_CASE("a small body of unknown size is stored compact, without the blocks' slack") {
  cache::MemoryStorage s(1 << 20, 1 << 20);
  auto w = s.begin(key_of(1), head_of("", std::nullopt), 1);
  REQUIRE(w);
  REQUIRE(w->append("0123456789", 10));
  auto filling = w->object();
  REQUIRE(w->commit());
  CHECK(filling->complete());
  CHECK(storage_conformance_helpers::body_of(*filling) == "0123456789");
  auto stored = s.lookup(key_of(1), [](const cache::StoredHead&) { return true; });
  REQUIRE(stored);
  CHECK(storage_conformance_helpers::body_of(*stored) == "0123456789");
  CHECK(s.stats().bytes.load() < 100);  // not a 4 KiB block
}
