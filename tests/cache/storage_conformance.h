// SPDX-License-Identifier: MIT
// The conformance suite every cache::Storage passes. A test file instantiates it with a factory:
//
//   struct MemoryFactory {
//     static constexpr uint64_t kCapacity = ...;  // bytes the storage from make() may hold
//     static std::unique_ptr<cache::Storage> make(const std::string& dir);
//   };
//   TEST_CASE_TEMPLATE_INVOKE(storage_conformance, MemoryFactory);
//
// |dir| is a fresh temporary directory (a disk tier keeps its files there; memory ignores it).
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cache/storage.h"
#include "tests/temp_dir.h"

namespace storage_conformance_helpers {

inline cache::CacheKey key_of(int n) {
  return cache::CacheKey{0x9e3779b97f4a7c15ull * static_cast<uint64_t>(n + 1),
                         0xc2b2ae3d27d4eb4full * static_cast<uint64_t>(n + 7)};
}

inline cache::ObjectHead head_of(std::string_view fields, std::optional<uint64_t> size,
                                 std::string_view vary = "", std::string_view variant = "") {
  cache::ObjectHead h;
  h.status = 200;
  h.fields = fields;
  h.vary = vary;
  h.variant = variant;
  h.host = "example.com";
  h.path = "/x";
  h.body_size = size;
  return h;
}

// The body readable now, from memory or from the file.
inline std::string body_of(const cache::Object& o) {
  std::string out;
  uint64_t file_off = 0;
  const int fd = o.file(file_off);
  const uint64_t avail = o.available();
  if (fd >= 0) {
    out.resize(avail);
    uint64_t got = 0;
    while (got < avail) {
      const ssize_t n =
          ::pread(fd, out.data() + got, avail - got, static_cast<off_t>(file_off + got));
      if (n <= 0) break;
      got += static_cast<uint64_t>(n);
    }
    out.resize(got);
    return out;
  }
  while (out.size() < avail) {
    const std::string_view run = o.memory_at(out.size());
    if (run.empty()) break;
    out.append(run);
  }
  return out;
}

inline cache::ObjectRef store(cache::Storage& s, const cache::CacheKey& k, cache::ObjectHead h,
                              const std::string& body, uint64_t seq = 1) {
  auto w = s.begin(k, std::move(h), seq);
  if (!w) return nullptr;
  auto obj = w->object();
  if (!w->append(body.data(), body.size())) return nullptr;
  if (!w->commit()) return nullptr;
  return obj;
}

// Wakes a waiting reader when a fill progresses.
struct Waker : cache::FillListener {
  std::mutex mu;
  std::condition_variable cv;
  int events = 0;
  void fill_progress() override {
    std::lock_guard lock(mu);
    ++events;
    cv.notify_all();
  }
};

}  // namespace storage_conformance_helpers

TEST_CASE_TEMPLATE_DEFINE("storage conformance: ", Factory, storage_conformance) {
  using namespace storage_conformance_helpers;
  gatehouse_test::TempDir dir;
  std::unique_ptr<cache::Storage> s = Factory::make(dir.path());
  REQUIRE(s);
  const auto any = [](const cache::StoredHead&) { return true; };

  SUBCASE("a committed object is found with its head and body; a filling one is not") {
    auto w = s->begin(key_of(1), head_of("Content-Type: text/plain\r\n", 5), 1);
    REQUIRE(w);
    REQUIRE(w->append("hel", 3));
    CHECK(s->lookup(key_of(1), any) == nullptr);
    REQUIRE(w->append("lo", 2));
    REQUIRE(w->commit());
    auto o = s->lookup(key_of(1), any);
    REQUIRE(o);
    CHECK(o->complete());
    CHECK(o->key() == key_of(1));
    CHECK(o->head().fields() == "Content-Type: text/plain\r\n");
    CHECK(o->head().status() == 200);
    CHECK(body_of(*o) == "hello");
    CHECK(s->lookup(key_of(2), any) == nullptr);
  }

  SUBCASE("a body of unknown size is stored and learns its size at the end") {
    std::string body;
    for (int i = 0; i < 20000; ++i) body += static_cast<char>('a' + i % 26);
    auto w = s->begin(key_of(3), head_of("", std::nullopt), 1);
    REQUIRE(w);
    for (size_t off = 0; off < body.size(); off += 777)
      REQUIRE(w->append(body.data() + off, std::min<size_t>(777, body.size() - off)));
    REQUIRE(w->commit());
    auto o = s->lookup(key_of(3), any);
    REQUIRE(o);
    CHECK(body_of(*o) == body);
    REQUIRE(o->head().body_size());
    CHECK(*o->head().body_size() == body.size());
  }

  SUBCASE("variants of one key are kept apart") {
    REQUIRE(store(*s, key_of(4), head_of("", 4, "accept-encoding", "gzip"), "gzip"));
    REQUIRE(store(*s, key_of(4), head_of("", 2, "accept-encoding", "br"), "br"));
    auto gz =
        s->lookup(key_of(4), [](const cache::StoredHead& h) { return h.variant() == "gzip"; });
    auto br = s->lookup(key_of(4), [](const cache::StoredHead& h) { return h.variant() == "br"; });
    REQUIRE(gz);
    REQUIRE(br);
    CHECK(body_of(*gz) == "gzip");
    CHECK(body_of(*br) == "br");
    CHECK(s->lookup(key_of(4), [](const cache::StoredHead&) { return false; }) == nullptr);
    CHECK(s->stats().objects.load() == 2);
  }

  SUBCASE("a commit replaces the same key and variant") {
    auto first = store(*s, key_of(5), head_of("", 3), "old");
    REQUIRE(first);
    auto second = store(*s, key_of(5), head_of("", 3), "new", 2);
    REQUIRE(second);
    auto o = s->lookup(key_of(5), any);
    REQUIRE(o);
    CHECK(body_of(*o) == "new");
    CHECK(s->stats().objects.load() == 1);
    // The replaced object stays readable by whoever holds it.
    CHECK(body_of(*first) == "old");
    // Removing the replaced object leaves the new one.
    s->remove(first);
    CHECK(s->lookup(key_of(5), any) != nullptr);
  }

  SUBCASE("an aborted or abandoned fill leaves nothing, and its readers see the abort") {
    auto w = s->begin(key_of(6), head_of("", std::nullopt), 1);
    REQUIRE(w);
    auto reader = w->object();
    REQUIRE(w->append("partial", 7));
    w->abort();
    CHECK(reader->aborted());
    CHECK(s->lookup(key_of(6), any) == nullptr);
    {
      auto w2 = s->begin(key_of(7), head_of("", std::nullopt), 1);
      REQUIRE(w2);
      reader = w2->object();
      REQUIRE(w2->append("x", 1));
    }
    CHECK(reader->aborted());
    CHECK(s->lookup(key_of(7), any) == nullptr);
    CHECK(s->stats().objects.load() == 0);
  }

  SUBCASE("a body shorter than its known size is truncated: not stored") {
    auto w = s->begin(key_of(8), head_of("", 10), 1);
    REQUIRE(w);
    REQUIRE(w->append("short", 5));
    CHECK_FALSE(w->commit());
    CHECK(s->lookup(key_of(8), any) == nullptr);
  }

  SUBCASE("a reader follows a fill as it streams in") {
    constexpr int kChunks = 64;
    const std::string chunk(1000, 'z');
    auto w = s->begin(key_of(9), head_of("", std::nullopt), 1);
    REQUIRE(w);
    auto obj = w->object();
    std::string seen;
    bool aborted = false;
    std::thread reader([&] {
      Waker waker;
      bool subscribed = obj->subscribe(&waker);
      for (;;) {
        std::unique_lock lock(waker.mu);
        const int events = waker.events;
        lock.unlock();
        while (seen.size() < obj->available()) {
          const std::string_view run = obj->memory_at(seen.size());
          if (run.empty()) {  // a disk body: read through the file
            seen = body_of(*obj);
            break;
          }
          seen.append(run);
        }
        if (obj->complete() && seen.size() == obj->available()) break;
        if (obj->aborted()) {
          aborted = true;
          break;
        }
        lock.lock();
        if (subscribed) {
          waker.cv.wait_for(lock, std::chrono::milliseconds(200),
                            [&] { return waker.events != events; });
        } else {
          lock.unlock();
          subscribed = obj->subscribe(&waker);
        }
      }
      obj->unsubscribe(&waker);
    });
    for (int i = 0; i < kChunks; ++i) REQUIRE(w->append(chunk.data(), chunk.size()));
    REQUIRE(w->commit());
    reader.join();
    CHECK_FALSE(aborted);
    CHECK(seen.size() == kChunks * chunk.size());
    CHECK(seen == std::string(kChunks * chunk.size(), 'z'));
  }

  SUBCASE("update_head replaces the head and keeps the body") {
    auto o = store(*s, key_of(10), head_of("ETag: \"1\"\r\n", 4), "body");
    REQUIRE(o);
    auto h = head_of("ETag: \"1\"\r\nX-New: yes\r\n", 4);
    auto fresh = s->update_head(o, h);
    REQUIRE(fresh);
    CHECK(fresh->head().fields() == "ETag: \"1\"\r\nX-New: yes\r\n");
    CHECK(body_of(*fresh) == "body");
    auto found = s->lookup(key_of(10), any);
    REQUIRE(found);
    CHECK(found->head().fields() == "ETag: \"1\"\r\nX-New: yes\r\n");
    CHECK(s->stats().objects.load() == 1);
    // The old object is no longer stored: updating it again fails.
    CHECK(s->update_head(o, head_of("", 4)) == nullptr);
  }

  SUBCASE("remove by key drops every variant; remove by object drops that one") {
    REQUIRE(store(*s, key_of(11), head_of("", 1, "accept", "a"), "a"));
    REQUIRE(store(*s, key_of(11), head_of("", 1, "accept", "b"), "b"));
    CHECK(s->remove(key_of(11)) == 2);
    CHECK(s->lookup(key_of(11), any) == nullptr);
    CHECK(s->remove(key_of(11)) == 0);
    auto o = store(*s, key_of(12), head_of("", 1), "c");
    REQUIRE(o);
    s->remove(o);
    CHECK(s->lookup(key_of(12), any) == nullptr);
  }

  SUBCASE("stats count objects and bytes, both ways") {
    const uint64_t bytes0 = s->stats().bytes.load();
    auto o = store(*s, key_of(13), head_of("A: b\r\n", 1000), std::string(1000, 'q'));
    REQUIRE(o);
    CHECK(s->stats().objects.load() == 1);
    CHECK(s->stats().bytes.load() >= bytes0 + 1000);
    s->remove(key_of(13));
    CHECK(s->stats().objects.load() == 0);
    CHECK(s->stats().bytes.load() == bytes0);
  }

  SUBCASE("eviction keeps the storage within its size, newest objects kept") {
    constexpr uint64_t kObject = Factory::kCapacity / 32;
    const std::string body(kObject, 'e');
    for (int i = 0; i < 128; ++i) {
      REQUIRE(
          store(*s, key_of(1000 + i), head_of("", kObject), body, static_cast<uint64_t>(i + 1)));
      CHECK(s->stats().bytes.load() <= Factory::kCapacity);
    }
    CHECK(s->stats().evictions.load() > 0);
    CHECK(s->stats().objects.load() < 128);
    CHECK(s->lookup(key_of(1000 + 127), any) != nullptr);
  }
}
