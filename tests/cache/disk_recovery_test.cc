// SPDX-License-Identifier: MIT
// The disk tier after damage: flipped bytes, truncated files, interrupted fills, torn head
// updates. Nothing damaged is ever served; it is dropped (a miss) and its file deleted.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "cache/disk_format.h"
#include "tests/cache/disk_test_util.h"

using namespace disk_test;
using gatehouse_test::TempDir;

namespace {

void flip_byte(const std::string& path, uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  c ^= 0x01;
  REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

uint64_t file_size(const std::string& path) {
  return std::filesystem::file_size(path);
}

// The one object file under |dir|.
std::string the_file(const std::string& dir) {
  auto files = object_files(dir);
  REQUIRE(files.size() == 1);
  return files[0];
}

uint32_t slot_size_of(const cache::ObjectHead& h) {
  return cache::disk::choose_slot_size(cache::disk::encoded_slot_size(h));
}

}  // namespace

TEST_CASE("a flipped byte in a disk object is detected at rebuild: a miss, and the file deleted") {
  TempDir dir;
  const std::string body(20000, 'q');
  {
    auto s = reopen(dir.path());
    store(*s, key_of(1), body);
    store(*s, key_of(2), "the intact neighbour");
  }
  REQUIRE(object_files(dir.path()).size() == 2);
  const std::string victim =
      dir.path() + "/" + cache::disk::object_path(key_of(1), cache::disk::variant_hash(""));
  REQUIRE(std::filesystem::exists(victim));
  const uint32_t slot = slot_size_of(head_with());
  SUBCASE("in the head's magic") {
    flip_byte(victim, 0);
  }
  SUBCASE("in the head's fields") {
    flip_byte(victim, cache::disk::kSlotPrefixSize + 60);
  }
  SUBCASE("in the body's first byte") {
    flip_byte(victim, 2ull * slot);
  }
  SUBCASE("in the body's last byte") {
    flip_byte(victim, 2ull * slot + body.size() - 1);
  }
  SUBCASE("in the trailer") {
    flip_byte(victim, file_size(victim) - 20);
  }
  auto s = reopen(dir.path());
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  CHECK_FALSE(std::filesystem::exists(victim));
  auto ok = s->lookup(key_of(2), any_variant());
  REQUIRE(ok);
  CHECK(read_body(*ok) == "the intact neighbour");
  CHECK(s->stats().objects == 1);
}

TEST_CASE("a truncated disk object is dropped at rebuild") {
  TempDir dir;
  {
    auto s = reopen(dir.path());
    store(*s, key_of(1), std::string(30000, 'x'));
  }
  const std::string f = the_file(dir.path());
  SUBCASE("by one byte") {
    std::filesystem::resize_file(f, file_size(f) - 1);
  }
  SUBCASE("inside the body") {
    std::filesystem::resize_file(f, 10000);
  }
  SUBCASE("to nothing") {
    std::filesystem::resize_file(f, 0);
  }
  SUBCASE("grown by a byte") {
    std::filesystem::resize_file(f, file_size(f) + 1);
  }
  auto s = reopen(dir.path());
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  CHECK(object_files(dir.path()).empty());
}

TEST_CASE("temporary files of an interrupted fill are deleted at rebuild and never served") {
  TempDir dir;
  auto crashed = reopen(dir.path());  // stands for a process killed while it filled
  auto w = crashed->begin(key_of(1), head_with(), 1);
  REQUIRE(w->append("half of it", 10));
  dir.write("tmp/0123456789abcdef-7", "left by an older crash");
  REQUIRE(temp_files(dir.path()) == 2);

  auto s = open_storage(dir.path());
  auto own = s->begin(key_of(2), head_with(), 1);  // this process's fill, begun before the scan
  REQUIRE(own->append("mine", 4));
  s->rebuild_index();
  CHECK(temp_files(dir.path()) == 1);  // only |own|'s
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  REQUIRE(own->commit());
  CHECK(read_body(*s->lookup(key_of(2), any_variant())) == "mine");
  CHECK_FALSE(w->commit());  // its temporary file is gone: the publish fails, nothing stored
  CHECK(w->object()->aborted());
  CHECK_FALSE(reopen(dir.path())->lookup(key_of(1), any_variant()));
}

TEST_CASE("update_head replaces a disk object's head, keeps its body, and survives a restart") {
  TempDir dir;
  auto s = reopen(dir.path());
  auto old = store(*s, key_of(1), "the body", head_with("gzip"));
  cache::ObjectHead h = head_with("gzip", "X-A: 2\r\nETag: \"v2\"\r\n");
  h.freshness.response_time = 1700000500;
  auto fresh = s->update_head(old, h);
  REQUIRE(fresh);
  CHECK(fresh->head().fields() == "X-A: 2\r\nETag: \"v2\"\r\n");
  CHECK(fresh->complete());
  CHECK(read_body(*fresh) == "the body");
  CHECK(read_body(*old) == "the body");
  CHECK(s->lookup(key_of(1), any_variant())->head().fields() == "X-A: 2\r\nETag: \"v2\"\r\n");
  CHECK(s->stats().objects == 1);
  CHECK_FALSE(s->update_head(old, h));  // |old| is no longer the stored object

  auto again = reopen(dir.path());
  auto hit = again->lookup(key_of(1), variant_is("gzip"));
  REQUIRE(hit);
  CHECK(hit->head().fields() == "X-A: 2\r\nETag: \"v2\"\r\n");
  CHECK(hit->head().freshness().response_time == 1700000500);
  CHECK(read_body(*hit) == "the body");
  // A second update on the reopened file goes to the other slot again.
  auto third = again->update_head(hit, head_with("gzip", "X-A: 3\r\n"));
  REQUIRE(third);
  CHECK(reopen(dir.path())->lookup(key_of(1), any_variant())->head().fields() == "X-A: 3\r\n");
}

TEST_CASE("a torn head update is never served: the head before it is") {
  TempDir dir;
  const uint32_t slot = slot_size_of(head_with());
  {
    auto s = reopen(dir.path());
    auto v0 = store(*s, key_of(1), "body");
    auto v1 = s->update_head(v0, head_with("", "X-A: gen1\r\n"));  // into slot 1
    REQUIRE(v1);
    SUBCASE("the update in slot 1 torn: generation 0 is served") {
      flip_byte(the_file(dir.path()), slot + cache::disk::kSlotPrefixSize + 50);
      auto again = reopen(dir.path());
      auto hit = again->lookup(key_of(1), any_variant());
      REQUIRE(hit);
      CHECK(hit->head().fields() == "X-A: 1\r\n");
      CHECK(read_body(*hit) == "body");
    }
    SUBCASE("the next update, in slot 0, torn: generation 1 is served") {
      REQUIRE(s->update_head(v1, head_with("", "X-A: gen2\r\n")));
      flip_byte(the_file(dir.path()), cache::disk::kSlotPrefixSize + 50);
      auto hit = reopen(dir.path())->lookup(key_of(1), any_variant());
      REQUIRE(hit);
      CHECK(hit->head().fields() == "X-A: gen1\r\n");
    }
    SUBCASE("both slots torn: the object is dropped") {
      flip_byte(the_file(dir.path()), 10);
      flip_byte(the_file(dir.path()), slot + 10);
      CHECK_FALSE(reopen(dir.path())->lookup(key_of(1), any_variant()));
      CHECK(object_files(dir.path()).empty());
    }
  }
}

TEST_CASE("a head that outgrows its slots moves to a new file with the same body") {
  TempDir dir;
  auto s = reopen(dir.path());
  auto old = store(*s, key_of(1), std::string(10000, 'b'));
  const std::string big = "X-Big: " + std::string(9000, 'v') + "\r\n";
  auto fresh = s->update_head(old, head_with("", big));
  REQUIRE(fresh);
  CHECK(fresh->head().fields() == big);
  CHECK(read_body(*fresh) == std::string(10000, 'b'));
  CHECK(read_body(*old) == std::string(10000, 'b'));
  CHECK(s->stats().objects == 1);
  CHECK(object_files(dir.path()).size() == 1);
  CHECK(temp_files(dir.path()) == 0);
  auto hit = reopen(dir.path())->lookup(key_of(1), any_variant());
  REQUIRE(hit);
  CHECK(hit->head().fields() == big);
  CHECK(read_body(*hit) == std::string(10000, 'b'));
}
