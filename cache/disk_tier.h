// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include "cache/cache.h"
#include "cache/disk_storage.h"

namespace cache {

// Opens the disk tier named by |settings| (disk_path set), or null (none configured, or it
// failed to open: the failure is logged and gatehouse runs with memory only). Kept apart from
// cache.cc so the Cache links without the disk implementation.
std::unique_ptr<DiskStorage> open_disk_tier(const CacheSettings& settings);

}  // namespace cache
