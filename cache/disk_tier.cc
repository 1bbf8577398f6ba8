// SPDX-License-Identifier: MIT
#include "cache/disk_tier.h"

#include "proxy/base/log.h"

namespace cache {

std::unique_ptr<DiskStorage> open_disk_tier(const CacheSettings& settings) {
  if (settings.disk_path.empty()) return nullptr;
  auto disk = DiskStorage::open(settings.disk_path, settings.disk_size);
  if (!disk) {
    LOG_ERROR("cache disk tier disabled: %s", disk.error().c_str());
    return nullptr;
  }
  return std::move(disk.value());
}

}  // namespace cache
