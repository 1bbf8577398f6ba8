// SPDX-License-Identifier: MIT
// The cache's settings from the config: what the worker's one Cache is built with, and the
// policy knobs a request is judged by (the config's cache: section and its rule's cache: action).
#pragma once

#include "cache/cache.h"
#include "cache/policy.h"
#include "conf/config.h"

namespace proxy {

// conf::CacheConfig in the units cache::Cache speaks (bytes, a path).
cache::CacheSettings cache_settings(const conf::CacheConfig& config);

// The policy of |rule| (may be null) under |config|: a rule's {ttl} overrides the backend's
// freshness. Views point into |config|.
cache::PolicyConfig policy_config(const conf::CacheConfig& config, const conf::Rule* rule);

}  // namespace proxy
