// SPDX-License-Identifier: MIT
// The disk tier: store, lookup, variants, streaming readers, abort, restart, eviction, remove.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/cache/disk_test_util.h"

using namespace disk_test;
using gatehouse_test::TempDir;

TEST_CASE("a committed disk object is found by its key and its body is read through file()") {
  TempDir dir;
  auto s = reopen(dir.path());
  const auto stored = store(*s, key_of(1), "hello, disk");
  auto hit = s->lookup(key_of(1), any_variant());
  REQUIRE(hit);
  CHECK(hit->key() == stored->key());
  CHECK(hit->sequence() == stored->sequence());
  CHECK(hit->tier() == cache::Tier::kDisk);
  CHECK(hit->complete());
  CHECK(hit->available() == 11);
  CHECK(hit->memory_at(0).empty());
  CHECK(read_body(*hit) == "hello, disk");
  CHECK(hit->head().fields() == "X-A: 1\r\n");
  CHECK_FALSE(s->lookup(key_of(2), any_variant()));
  CHECK(s->stats().objects == 1);
  CHECK(s->stats().bytes > 11);
}

TEST_CASE("disk objects survive a restart: a new open and rebuild_index find them, heads intact") {
  TempDir dir;
  cache::ObjectHead h = head_with("gzip");
  h.status = 404;
  h.body_size = 5;
  {
    auto s = reopen(dir.path());
    store(*s, key_of(1), "12345", h);
    store(*s, key_of(2), std::string(100000, 'z'));
  }
  auto s = open_storage(dir.path());
  CHECK_FALSE(s->index_ready());
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));  // not scanned yet: a miss, not a wait
  s->rebuild_index();
  CHECK(s->index_ready());
  auto hit = s->lookup(key_of(1), variant_is("gzip"));
  REQUIRE(hit);
  CHECK(read_body(*hit) == "12345");
  const cache::StoredHead& got = hit->head();
  CHECK(got.status() == 404);
  CHECK(got.fields() == h.fields);
  CHECK(got.vary() == "accept-encoding");
  CHECK(got.variant() == "gzip");
  CHECK(got.tags() == "t1 t2");
  CHECK(got.host() == "example.com");
  CHECK(got.path() == "/a?b");
  CHECK(got.body_size() == std::optional<uint64_t>(5));
  CHECK(got.freshness().response_time == 1700000000);
  CHECK(got.freshness().lifetime == 60);
  CHECK(got.freshness().corrected_initial_age == 3);
  CHECK(got.freshness().stale_if_error == 99);
  CHECK(got.freshness().must_revalidate);
  CHECK_FALSE(got.freshness().no_cache);
  CHECK(hit->sequence() == 0);  // older than any ban of the new process
  auto big = s->lookup(key_of(2), any_variant());
  REQUIRE(big);
  CHECK(read_body(*big) == std::string(100000, 'z'));
  CHECK(s->stats().objects == 2);
}

TEST_CASE("variants of one key are stored apart and a new fill replaces only its own variant") {
  TempDir dir;
  auto s = reopen(dir.path());
  store(*s, key_of(1), "gzip body", head_with("gzip"));
  store(*s, key_of(1), "br body", head_with("br"));
  CHECK(read_body(*s->lookup(key_of(1), variant_is("gzip"))) == "gzip body");
  CHECK(read_body(*s->lookup(key_of(1), variant_is("br"))) == "br body");
  CHECK_FALSE(s->lookup(key_of(1), variant_is("identity")));
  store(*s, key_of(1), "gzip body 2", head_with("gzip"));
  CHECK(read_body(*s->lookup(key_of(1), variant_is("gzip"))) == "gzip body 2");
  CHECK(s->stats().objects == 2);
  CHECK(object_files(dir.path()).size() == 2);
  auto again = reopen(dir.path());
  CHECK(read_body(*again->lookup(key_of(1), variant_is("gzip"))) == "gzip body 2");
  CHECK(read_body(*again->lookup(key_of(1), variant_is("br"))) == "br body");
}

TEST_CASE("a reader on another thread follows a disk fill as it streams in") {
  TempDir dir;
  auto s = reopen(dir.path());
  auto w = s->begin(key_of(1), head_with(), 1);
  REQUIRE(w);
  auto obj = w->object();
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));  // filling objects are not lookups' to find
  std::string expect;
  for (int i = 0; i < 200; ++i) expect += std::to_string(i) + std::string(1000, char('a' + i % 26));
  std::string seen;
  std::thread reader([&] {
    uint64_t off = 0;
    const int fd = obj->file(off);
    for (;;) {
      const bool done = obj->complete() || obj->aborted();  // before available(): no lost tail
      const uint64_t avail = obj->available();
      while (seen.size() < avail) {
        char buf[4096];
        const size_t want = std::min<uint64_t>(sizeof buf, avail - seen.size());
        const ssize_t n = ::pread(fd, buf, want, off + seen.size());
        if (n <= 0) return;
        seen.append(buf, static_cast<size_t>(n));
      }
      if (done) return;
      std::this_thread::yield();
    }
  });
  for (size_t at = 0; at < expect.size(); at += 777) {
    const size_t n = std::min<size_t>(777, expect.size() - at);
    REQUIRE(w->append(expect.data() + at, n));
  }
  REQUIRE(w->commit());
  reader.join();
  CHECK(seen == expect);
  CHECK(obj->complete());
  CHECK(read_body(*s->lookup(key_of(1), any_variant())) == expect);
}

TEST_CASE("an aborted disk fill leaves nothing behind") {
  TempDir dir;
  auto s = reopen(dir.path());
  SUBCASE("abort()") {
    auto w = s->begin(key_of(1), head_with(), 1);
    REQUIRE(w->append("partial", 7));
    w->abort();
    CHECK(w->object()->aborted());
    CHECK_FALSE(w->commit());
  }
  SUBCASE("the writer destroyed uncommitted") {
    auto w = s->begin(key_of(1), head_with(), 1);
    auto obj = w->object();
    REQUIRE(w->append("partial", 7));
    w.reset();
    CHECK(obj->aborted());
  }
  SUBCASE("a body shorter than its declared size (a truncated response)") {
    cache::ObjectHead h = head_with();
    h.body_size = 100;
    auto w = s->begin(key_of(1), h, 1);
    REQUIRE(w->append("only this", 9));
    CHECK_FALSE(w->commit());
    CHECK(w->object()->aborted());
  }
  SUBCASE("a body longer than its declared size") {
    cache::ObjectHead h = head_with();
    h.body_size = 3;
    auto w = s->begin(key_of(1), h, 1);
    CHECK_FALSE(w->append("too long", 8));
    CHECK(w->object()->aborted());
  }
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  CHECK(object_files(dir.path()).empty());
  CHECK(temp_files(dir.path()) == 0);
  CHECK(s->stats().objects == 0);
  CHECK(s->stats().bytes == 0);
}

TEST_CASE("the disk tier stays within its size: the oldest object is evicted, a hit buys time") {
  TempDir dir;
  const std::string body(50000, 'b');
  // Each object's file is its body plus two 4 KiB head slots and a trailer: three fit in 200000.
  auto s = reopen(dir.path(), 200000);
  store(*s, key_of(1), body);
  store(*s, key_of(2), body);
  store(*s, key_of(3), body);
  CHECK(s->stats().objects == 3);
  s->lookup(key_of(1), any_variant())->touch();  // 1 is used: 2 is now the least used
  store(*s, key_of(4), body);
  CHECK(s->stats().evictions == 1);
  CHECK(s->stats().objects == 3);
  CHECK(s->stats().bytes <= 200000);
  CHECK(s->lookup(key_of(1), any_variant()));
  CHECK_FALSE(s->lookup(key_of(2), any_variant()));
  CHECK(s->lookup(key_of(3), any_variant()));
  CHECK(s->lookup(key_of(4), any_variant()));
  CHECK(object_files(dir.path()).size() == 3);
}

TEST_CASE("an object larger than the disk tier is refused") {
  TempDir dir;
  auto s = reopen(dir.path(), 100000);
  SUBCASE("by begin(), when its size is known") {
    cache::ObjectHead h = head_with();
    h.body_size = 200000;
    CHECK_FALSE(s->begin(key_of(1), h, 1));
  }
  SUBCASE("by append(), when it grows past the size") {
    auto w = s->begin(key_of(1), head_with(), 1);
    REQUIRE(w);
    const std::string chunk(60000, 'x');
    CHECK(w->append(chunk.data(), chunk.size()));
    CHECK_FALSE(w->append(chunk.data(), chunk.size()));
    CHECK(w->object()->aborted());
  }
  CHECK(temp_files(dir.path()) == 0);
  CHECK(s->stats().objects == 0);
}

TEST_CASE("remove by key or by object unlinks the files; a reader holding the object reads on") {
  TempDir dir;
  auto s = reopen(dir.path());
  store(*s, key_of(1), "v1", head_with("a"));
  store(*s, key_of(1), "v2", head_with("b"));
  store(*s, key_of(2), "other");
  auto held = s->lookup(key_of(1), variant_is("a"));
  CHECK(s->remove(key_of(1)) == 2);
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  CHECK(read_body(*held) == "v1");
  auto other = s->lookup(key_of(2), any_variant());
  s->remove(other);
  CHECK_FALSE(s->lookup(key_of(2), any_variant()));
  CHECK(read_body(*other) == "other");
  s->remove(other);  // no longer stored: nothing happens
  CHECK(object_files(dir.path()).empty());
  CHECK(s->stats().objects == 0);
  CHECK(s->stats().bytes == 0);
  auto again = reopen(dir.path());
  CHECK_FALSE(again->lookup(key_of(1), any_variant()));
}

TEST_CASE("lookups and fills work while the index is rebuilt on another thread") {
  TempDir dir;
  {
    auto s = reopen(dir.path());
    for (int i = 0; i < 200; ++i) store(*s, key_of(i), "old " + std::to_string(i));
  }
  auto s = open_storage(dir.path());
  std::thread rebuild([&] { s->rebuild_index(); });
  for (int i = 0; i < 200; i += 2) store(*s, key_of(i), "new " + std::to_string(i));
  for (int i = 0; i < 200; i += 3) s->lookup(key_of(i), any_variant());
  rebuild.join();
  CHECK(s->index_ready());
  for (int i = 0; i < 200; ++i) {
    auto hit = s->lookup(key_of(i), any_variant());
    REQUIRE(hit);
    // A fill during the rebuild is newer than the file the scan found.
    CHECK(read_body(*hit) == (i % 2 ? "old " : "new ") + std::to_string(i));
  }
  CHECK(s->stats().objects == 200);
}

TEST_CASE("a purge while the index is rebuilt also drops the key's files not scanned yet") {
  TempDir dir;
  {
    auto s = reopen(dir.path());
    store(*s, key_of(1), "a", head_with("x"));
    store(*s, key_of(1), "b", head_with("y"));
    store(*s, key_of(2), "kept");
  }
  auto s = open_storage(dir.path());
  CHECK(s->remove(key_of(1)) == 2);
  s->rebuild_index();
  CHECK_FALSE(s->lookup(key_of(1), any_variant()));
  CHECK(s->lookup(key_of(2), any_variant()));
}

TEST_CASE("a smaller size at a reload evicts the disk tier down to it") {
  TempDir dir;
  auto s = reopen(dir.path());
  for (int i = 0; i < 5; ++i) store(*s, key_of(i), std::string(50000, 'r'));
  s->resize(120000);
  CHECK(s->stats().bytes <= 120000);
  CHECK(s->stats().objects == 2);
  CHECK(s->stats().evictions == 3);
  CHECK_FALSE(s->lookup(key_of(0), any_variant()));
  CHECK(s->lookup(key_of(4), any_variant()));
  CHECK(object_files(dir.path()).size() == 2);
}

namespace {
size_t open_fds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) n += !e.path().empty();
  return n;
}
}  // namespace

TEST_CASE("the disk index holds no open files: a hit opens one, and its last reader closes it") {
  TempDir dir;
  const size_t before = open_fds();
  {
    auto s = reopen(dir.path());
    for (int i = 0; i < 100; ++i) store(*s, key_of(i), "object " + std::to_string(i));
    CHECK(open_fds() <= before + 2);  // the directory (and a transient one)
    auto hit = s->lookup(key_of(7), any_variant());
    CHECK(open_fds() <= before + 3);
    hit.reset();
    CHECK(open_fds() <= before + 2);
  }
  auto s = reopen(dir.path());
  CHECK(s->stats().objects == 100);
  CHECK(open_fds() <= before + 2);
}
