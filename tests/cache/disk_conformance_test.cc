// SPDX-License-Identifier: MIT
// The shared storage conformance suite (tests/cache/storage_conformance.h), run on the disk tier.
// The suite arrives with wip/store; until it is merged this file only defines the factory.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "cache/disk_storage.h"

namespace {

struct DiskFactory {
  // A disk tier on |dir| with its (empty) index already rebuilt, so it takes fills at once.
  static std::unique_ptr<cache::Storage> make(const std::string& dir) {
    auto s = cache::DiskStorage::open(dir, 1ull << 30);
    REQUIRE(s.has_value());
    s.value()->rebuild_index();
    return std::move(s.value());
  }
};

}  // namespace

#if __has_include("tests/cache/storage_conformance.h")
#include "tests/cache/storage_conformance.h"
TEST_CASE_TEMPLATE_INVOKE(storage_conformance, DiskFactory);
#else
TEST_CASE("the disk factory makes a ready, empty disk tier") {
  auto s = DiskFactory::make(std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp"));
  CHECK(s != nullptr);
}
#endif
