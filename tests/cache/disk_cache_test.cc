// SPDX-License-Identifier: MIT
// The Cache with a disk tier: large objects go to disk and outlive the Cache (a restart).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "cache/cache.h"
#include "tests/cache/disk_test_util.h"

using gatehouse_test::TempDir;

namespace {

const auto kNoVary = [](std::string_view) { return std::string(); };

cache::CacheSettings settings(const std::string& dir) {
  cache::CacheSettings s;
  s.memory = 8 << 20;  // objects over 1 MiB go to disk only
  s.disk_path = dir;
  s.disk_size = 64 << 20;
  return s;
}

bool put(cache::Cache& c, const cache::CacheKey& k, const std::string& body) {
  bool uncacheable = false;
  if (c.join_or_lead(k, &uncacheable) || uncacheable) return false;
  cache::ObjectHead h = disk_test::head_with();
  h.body_size = body.size();
  auto w = c.fill(k, h, true);
  return w && w->append(body.data(), body.size()) && w->commit();
}

// The background rebuild finds |k| (or the deadline passes: null).
cache::ObjectRef wait_for(cache::Cache& c, const cache::CacheKey& k) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto o = c.lookup(k, kNoVary)) return o;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a large object goes to the disk tier and is a hit again after a restart") {
  TempDir dir;
  const cache::CacheKey k = cache::make_key("http", "a.test", "/big", "", false, false);
  const std::string body(3 << 20, 'd');
  {
    cache::Cache c(settings(dir.path()));
    c.start_background_work();
    REQUIRE(put(c, k, body));
    auto o = c.lookup(k, kNoVary);
    REQUIRE(o);
    CHECK(o->tier() == cache::Tier::kDisk);
    REQUIRE(c.disk_stats());
    CHECK(c.disk_stats()->objects.load() == 1);
    CHECK(c.memory_stats().objects.load() == 0);
  }
  cache::Cache c(settings(dir.path()));
  c.start_background_work();
  auto o = wait_for(c, k);
  REQUIRE(o);
  CHECK(o->tier() == cache::Tier::kDisk);
  CHECK(disk_test::read_body(*o) == body);
  SUBCASE("a ban of the new process applies to what the old one stored") {
    c.ban_prefix("", "/a");  // head_with()'s path is /a?b
    CHECK_FALSE(c.lookup(k, kNoVary));
  }
  SUBCASE("a purge drops it from disk") {
    CHECK(c.purge(k) == 1);
    CHECK_FALSE(c.lookup(k, kNoVary));
    CHECK(disk_test::object_files(dir.path()).empty());
  }
}
