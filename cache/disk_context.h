// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cache/disk_index.h"
#include "cache/storage.h"
#include "proxy/base/unique_fd.h"

namespace cache::disk {

// What the disk tier's parts (storage, writer, rebuild) share. Outlives every writer.
struct DiskContext {
  DiskContext(proxy::base::UniqueFd dir, std::string instance_id, uint64_t capacity)
      : root(std::move(dir)),
        instance(std::move(instance_id)),
        index(root.get(), capacity, stats) {}

  proxy::base::UniqueFd root;  // the cache directory; every path is relative to it
  // Temporary names are "tmp/<instance>-<n>": the rebuild deletes those of other instances
  // (a crashed process's interrupted fills), never this one's fills in progress.
  std::string instance;
  std::atomic<uint64_t> temp_counter{0};
  std::atomic<bool> stopping{false};
  TierStats stats;
  DiskIndex index;
};

// The rebuild's scan (DiskStorage::rebuild_index): deletes other instances' temporary files,
// verifies every object file (header slots, trailer, the whole body's checksum) and indexes
// the intact ones; deletes the rest. False if |ctx.stopping| cut it short.
bool rebuild(DiskContext& ctx);

}  // namespace cache::disk
