// SPDX-License-Identifier: MIT
#include "proxy/cache_settings.h"

#include <chrono>

namespace proxy {
namespace {

uint32_t seconds(conf::Duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return s <= 0 ? 0 : s >= INT32_MAX ? INT32_MAX : static_cast<uint32_t>(s);
}

}  // namespace

cache::CacheSettings cache_settings(const conf::CacheConfig& config) {
  cache::CacheSettings s;
  s.memory = config.memory;
  if (config.disk) {
    s.disk_path = config.disk->path;
    s.disk_size = config.disk->size;
  }
  s.max_object_size = config.max_object_size;
  return s;
}

cache::PolicyConfig policy_config(const conf::CacheConfig& config, const conf::Rule* rule) {
  cache::PolicyConfig p;
  if (!config.targeted_header.empty()) p.targeted_header = config.targeted_header;
  p.stale_while_revalidate = seconds(config.stale_while_revalidate);
  p.stale_if_error = seconds(config.stale_if_error);
  p.max_object_size = config.max_object_size;
  if (rule && rule->cache && rule->cache->ttl) p.ttl = seconds(*rule->cache->ttl);
  return p;
}

}  // namespace proxy
