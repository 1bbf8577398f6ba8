// SPDX-License-Identifier: MIT
// The shared storage conformance suite (tests/cache/storage_conformance.h), run on the disk tier.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "cache/disk_storage.h"
#include "tests/cache/storage_conformance.h"

namespace {

struct DiskFactory {
  static constexpr uint64_t kCapacity = 4 << 20;
  // A disk tier on |dir| with its (empty) index already rebuilt, so it takes fills at once.
  static std::unique_ptr<cache::Storage> make(const std::string& dir) {
    auto s = cache::DiskStorage::open(dir, kCapacity);
    REQUIRE(s.has_value());
    s.value()->rebuild_index();
    return std::move(s.value());
  }
};

}  // namespace

TEST_CASE_TEMPLATE_INVOKE(storage_conformance, DiskFactory);
