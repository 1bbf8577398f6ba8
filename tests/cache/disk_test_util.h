// SPDX-License-Identifier: MIT
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cache/disk_storage.h"
#include "tests/temp_dir.h"

namespace disk_test {

inline cache::CacheKey key_of(uint64_t n) {
  return {0x1234000000000000ull ^ (n << 40) ^ n, n * 7 + 1};
}

inline cache::ObjectHead head_with(std::string variant = "", std::string fields = "X-A: 1\r\n") {
  cache::ObjectHead h;
  h.status = 200;
  h.fields = std::move(fields);
  h.vary = variant.empty() ? "" : "accept-encoding";
  h.variant = std::move(variant);
  h.tags = "t1 t2";
  h.host = "example.com";
  h.path = "/a?b";
  h.freshness.response_time = 1700000000;
  h.freshness.lifetime = 60;
  h.freshness.corrected_initial_age = 3;
  h.freshness.stale_if_error = 99;
  h.freshness.must_revalidate = true;
  return h;
}

inline std::unique_ptr<cache::DiskStorage> open_storage(const std::string& dir,
                                                        uint64_t size = 1ull << 30) {
  auto s = cache::DiskStorage::open(dir, size);
  REQUIRE(s.has_value());
  return std::move(s.value());
}

// open_storage + a rebuild on this thread.
inline std::unique_ptr<cache::DiskStorage> reopen(const std::string& dir,
                                                  uint64_t size = 1ull << 30) {
  auto s = open_storage(dir, size);
  s->rebuild_index();
  REQUIRE(s->index_ready());
  return s;
}

inline cache::ObjectRef store(cache::Storage& s, const cache::CacheKey& key,
                              const std::string& body, cache::ObjectHead head = head_with()) {
  auto w = s.begin(key, std::move(head), 1);
  REQUIRE(w);
  REQUIRE(w->append(body.data(), body.size()));
  REQUIRE(w->commit());
  return w->object();
}

inline auto any_variant() {
  return [](const cache::StoredHead&) { return true; };
}
inline auto variant_is(std::string v) {
  return [v](const cache::StoredHead& h) { return h.variant() == v; };
}

// The body of |obj| as far as available(), read through file().
inline std::string read_body(const cache::Object& obj) {
  uint64_t off = 0;
  const int fd = obj.file(off);
  REQUIRE(fd >= 0);
  std::string out(obj.available(), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, off + got);
    REQUIRE(n > 0);
    got += static_cast<size_t>(n);
  }
  return out;
}

// The object files under |dir| (fan-out tree), and the temporary ones.
inline std::vector<std::string> object_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().parent_path().filename() != "tmp")
      out.push_back(e.path().string());
  return out;
}
inline size_t temp_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/tmp")) n += e.is_regular_file();
  return n;
}

}  // namespace disk_test
