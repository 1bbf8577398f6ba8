// SPDX-License-Identifier: MIT
// A large object streams through the disk tier without being held in memory. 256 MiB by
// default; GATEHOUSE_TEST_DISK_2GIB=1 makes it the 2 GiB.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tests/cache/disk_test_util.h"

using namespace disk_test;
using gatehouse_test::TempDir;

namespace {

uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("a large fill streams to disk in 1 MiB pieces with under 64 MiB of RSS growth") {
  const char* big = std::getenv("GATEHOUSE_TEST_DISK_2GIB");
  const uint64_t total = (big && *big == '1') ? (2ull << 30) : (256ull << 20);
  TempDir dir;
  std::string piece(1 << 20, '\0');
  for (size_t i = 0; i < piece.size(); ++i) piece[i] = static_cast<char>(i * 31 + 7);
  const uint64_t before = rss_bytes();
  {
    auto s = reopen(dir.path(), total + (64ull << 20));
    cache::ObjectHead h = head_with();
    h.body_size = total;
    auto w = s->begin(key_of(1), h, 1);
    REQUIRE(w);
    for (uint64_t at = 0; at < total; at += piece.size()) {
      piece[0] = static_cast<char>(at >> 20);  // every piece differs: the checksum sees order
      REQUIRE(w->append(piece.data(), piece.size()));
    }
    REQUIRE(w->commit());
    CHECK(w->object()->available() == total);
    MESSAGE("RSS growth after the fill: ", (rss_bytes() - before) >> 10, " KiB");
    CHECK(rss_bytes() - before < (64ull << 20));
  }
  // The restart reads the whole body once to check it, also in small pieces.
  auto s = reopen(dir.path(), total + (64ull << 20));
  auto hit = s->lookup(key_of(1), any_variant());
  REQUIRE(hit);
  CHECK(hit->available() == total);
  uint64_t off = 0;
  const int fd = hit->file(off);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(off + total - piece.size())) == 1);
  CHECK(c == static_cast<char>((total - piece.size()) >> 20));
  MESSAGE("RSS growth after the rebuild: ", (rss_bytes() - before) >> 10, " KiB");
  CHECK(rss_bytes() - before < (64ull << 20));
}
