// SPDX-License-Identifier: MIT
// The cache's settings and policy from the config (proxy/cache_settings.h).
#include "proxy/cache_settings.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("the cache settings come from cache: in bytes, with the disk tier when configured") {
  conf::CacheConfig c;
  c.memory = 64ull << 20;
  c.max_object_size = 1ull << 20;
  cache::CacheSettings s = proxy::cache_settings(c);
  CHECK(s.memory == 64ull << 20);
  CHECK(s.max_object_size == 1ull << 20);
  CHECK(s.disk_path.empty());
  c.disk = conf::DiskCache{"/var/cache/gh", 10ull << 30};
  s = proxy::cache_settings(c);
  CHECK(s.disk_path == "/var/cache/gh");
  CHECK(s.disk_size == 10ull << 30);
}

TEST_CASE("the policy takes the operator's stale defaults, targeted field and a rule's ttl") {
  conf::CacheConfig c;
  c.stale_while_revalidate = 30s;
  c.stale_if_error = 2min;
  cache::PolicyConfig p = proxy::policy_config(c, nullptr);
  CHECK(p.stale_while_revalidate == 30);
  CHECK(p.stale_if_error == 120);
  CHECK(p.targeted_header == "cdn-cache-control");
  CHECK_FALSE(p.ttl);
  c.targeted_header = "Edge-Control";
  conf::Rule rule;
  rule.cache = conf::CacheAction{false, conf::Duration(86400000)};
  p = proxy::policy_config(c, &rule);
  CHECK(p.targeted_header == "Edge-Control");
  REQUIRE(p.ttl);
  CHECK(*p.ttl == 86400);
}
