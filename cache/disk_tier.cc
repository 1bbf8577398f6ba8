// SPDX-License-Identifier: MIT
#include "cache/disk_tier.h"

namespace cache {

// Placeholder until the disk tier (cache/disk_storage.cc) is merged: the merge replaces this
// body with DiskStorage::open(settings.disk_path, settings.disk_size), logging its error.
std::unique_ptr<DiskStorage> open_disk_tier(const CacheSettings&) {
  return nullptr;
}

}  // namespace cache
