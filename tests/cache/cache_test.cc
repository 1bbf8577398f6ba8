// SPDX-License-Identifier: MIT
#include "cache/cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "cache/ban_list.h"
#include "cache/cache_key.h"

namespace {

cache::ObjectHead head(std::string_view host, std::string_view path, std::optional<uint64_t> size,
                       std::string_view tags = "") {
  cache::ObjectHead h;
  h.host = host;
  h.path = path;
  h.tags = tags;
  h.body_size = size;
  return h;
}

cache::CacheKey key(std::string_view host, std::string_view path) {
  return cache::make_key("http", host, path, "", false, false);
}

const auto kNoVary = [](std::string_view) { return std::string(); };

// Stores |body| under host+path through the coalescing path (lead, fill, commit).
bool put(cache::Cache& c, std::string_view host, std::string_view path, const std::string& body,
         std::string_view tags = "") {
  const cache::CacheKey k = key(host, path);
  bool uncacheable = false;
  if (c.join_or_lead(k, &uncacheable) || uncacheable) return false;
  auto w = c.fill(k, head(host, path, body.size(), tags), true);
  return w && w->append(body.data(), body.size()) && w->commit();
}

cache::CacheSettings small() {
  cache::CacheSettings s;
  s.memory = 8 << 20;
  return s;
}

}  // namespace

TEST_CASE("a stored object is a hit after its fill, and purge drops it") {
  cache::Cache c(small());
  REQUIRE(put(c, "a.test", "/x", "hello"));
  auto o = c.lookup(key("a.test", "/x"), kNoVary);
  REQUIRE(o);
  CHECK(o->complete());
  CHECK(c.memory_stats().objects.load() == 1);
  CHECK(c.purge(key("a.test", "/x")) == 1);
  CHECK(c.lookup(key("a.test", "/x"), kNoVary) == nullptr);
  CHECK(c.stats().purges.load() == 1);
  CHECK(c.disk_stats() == nullptr);
}

TEST_CASE("100 threads missing one key make one leader; the others follow its object") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/cold");
  constexpr int kThreads = 100;
  std::atomic<int> leaders{0}, followers{0};
  std::barrier start(kThreads);
  std::atomic<bool> filled{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      bool uncacheable = false;
      auto pending = c.join_or_lead(k, &uncacheable);
      if (uncacheable) return;
      if (!pending) {
        if (c.lookup(k, kNoVary)) {  // came after the fill: a plain hit (a leader always settles)
          c.settle_failed(k);
          return;
        }
        ++leaders;
        auto w = c.fill(k, head("a.test", "/cold", 4), true);
        REQUIRE(w);
        w->append("body", 4);
        REQUIRE(w->commit());
        filled = true;
        return;
      }
      ++followers;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(leaders.load() == 1);
  CHECK(filled.load());
  CHECK(c.stats().coalesced.load() == static_cast<uint64_t>(followers.load()));
  CHECK(c.lookup(k, kNoVary) != nullptr);
}

TEST_CASE("a waiter is woken when the leader settles, and reads the streaming object") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/s");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  auto pending = c.join_or_lead(k, nullptr);
  REQUIRE(pending);
  CHECK(pending->state() == cache::PendingFill::State::kWaiting);
  struct Count : cache::FillListener {
    int n = 0;
    void fill_progress() override { ++n; }
  } count;
  REQUIRE(pending->subscribe(&count));
  auto w = c.fill(k, head("a.test", "/s", std::nullopt), true);
  REQUIRE(w);
  CHECK(count.n == 1);
  CHECK(pending->state() == cache::PendingFill::State::kObject);
  auto obj = pending->object();
  REQUIRE(obj);
  w->append("abc", 3);
  CHECK(obj->available() == 3);
  CHECK(obj->memory_at(0) == "abc");
  // While the fill runs, a later miss joins it too.
  CHECK(c.join_or_lead(k, nullptr) == pending);
  REQUIRE(w->commit());
  CHECK(obj->complete());
  // Once committed the fill leaves the table: the next miss would lead.
  CHECK(c.join_or_lead(k, nullptr) == nullptr);
  pending->unsubscribe(&count);
}

TEST_CASE("an uncacheable response releases the waiters and is not coalesced for a while") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/private");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  auto pending = c.join_or_lead(k, nullptr);
  REQUIRE(pending);
  c.settle_uncacheable(k);
  CHECK(pending->state() == cache::PendingFill::State::kUncacheable);
  CHECK_FALSE(pending->subscribe(nullptr));
  bool uncacheable = false;
  CHECK(c.join_or_lead(k, &uncacheable) == nullptr);
  CHECK(uncacheable);
  // A purge forgets it.
  c.purge(k);
  CHECK(c.join_or_lead(k, &uncacheable) == nullptr);
  CHECK_FALSE(uncacheable);
}

TEST_CASE("a failed fill releases the waiters without remembering the key") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/f");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  auto pending = c.join_or_lead(k, nullptr);
  REQUIRE(pending);
  c.settle_failed(k);
  CHECK(pending->state() == cache::PendingFill::State::kFailed);
  bool uncacheable = true;
  CHECK(c.join_or_lead(k, &uncacheable) == nullptr);
  CHECK_FALSE(uncacheable);
}

TEST_CASE("an aborted fill leaves nothing stored and ends the coalescing entry") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/abort");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  auto w = c.fill(k, head("a.test", "/abort", 10), true);
  REQUIRE(w);
  auto obj = w->object();
  w->append("12345", 5);
  w->abort();
  CHECK(obj->aborted());
  CHECK(c.lookup(k, kNoVary) == nullptr);
  CHECK(c.join_or_lead(k, nullptr) == nullptr);
  CHECK(c.stats().store_aborts.load() == 1);
}

TEST_CASE("objects larger than max_object_size are not stored") {
  cache::CacheSettings s = small();
  s.max_object_size = 100;
  cache::Cache c(s);
  const cache::CacheKey k = key("a.test", "/big");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  CHECK(c.fill(k, head("a.test", "/big", 101), true) == nullptr);
  bool uncacheable = false;
  c.join_or_lead(k, &uncacheable);
  CHECK(uncacheable);
  // Unknown size: aborted once it grows past the limit.
  auto w = c.fill(key("a.test", "/big2"), head("a.test", "/big2", std::nullopt), false);
  REQUIRE(w);
  const std::string chunk(60, 'x');
  CHECK(w->append(chunk.data(), chunk.size()));
  CHECK_FALSE(w->append(chunk.data(), chunk.size()));
}

TEST_CASE("a prefix ban drops older objects under the prefix, lazily, and spares newer ones") {
  cache::Cache c(small());
  REQUIRE(put(c, "a.test", "/docs/1", "1"));
  REQUIRE(put(c, "a.test", "/docs/2", "2"));
  REQUIRE(put(c, "a.test", "/other", "3"));
  REQUIRE(put(c, "b.test", "/docs/1", "4"));
  c.ban_prefix("A.test", "/docs/");
  // Nothing is dropped until a lookup meets the object.
  CHECK(c.memory_stats().objects.load() == 4);
  CHECK(c.lookup(key("a.test", "/docs/1"), kNoVary) == nullptr);
  CHECK(c.lookup(key("a.test", "/docs/2"), kNoVary) == nullptr);
  CHECK(c.lookup(key("a.test", "/other"), kNoVary) != nullptr);
  CHECK(c.lookup(key("b.test", "/docs/1"), kNoVary) != nullptr);
  CHECK(c.stats().banned.load() == 2);
  // Stored after the ban: not affected.
  REQUIRE(put(c, "a.test", "/docs/1", "new"));
  CHECK(c.lookup(key("a.test", "/docs/1"), kNoVary) != nullptr);
  // Any host.
  c.ban_prefix("", "/docs");
  CHECK(c.lookup(key("b.test", "/docs/1"), kNoVary) == nullptr);
}

TEST_CASE("a tag ban drops every older object carrying the Surrogate-Key value") {
  cache::Cache c(small());
  REQUIRE(put(c, "a.test", "/1", "1", "user-1 repo-7"));
  REQUIRE(put(c, "a.test", "/2", "2", "repo-7"));
  REQUIRE(put(c, "a.test", "/3", "3", "repo-70"));
  c.ban_tag("repo-7");
  CHECK(c.lookup(key("a.test", "/1"), kNoVary) == nullptr);
  CHECK(c.lookup(key("a.test", "/2"), kNoVary) == nullptr);
  CHECK(c.lookup(key("a.test", "/3"), kNoVary) != nullptr);
  CHECK(c.stats().bans.load() == 1);
}

TEST_CASE("lookup matches the stored variant the request's Vary values select") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/v");
  for (std::string enc : {"gzip", "br"}) {
    auto h = head("a.test", "/v", enc.size());
    h.vary = "accept-encoding";
    h.variant = enc;
    auto w = c.fill(k, std::move(h), false);
    REQUIRE(w);
    w->append(enc.data(), enc.size());
    REQUIRE(w->commit());
  }
  auto br = c.lookup(k, [](std::string_view names) {
    CHECK(names == "accept-encoding");
    return std::string("br");
  });
  REQUIRE(br);
  CHECK(br->memory_at(0) == "br");
  CHECK(c.lookup(k, [](std::string_view) { return std::string("zstd"); }) == nullptr);
}

TEST_CASE("refresh replaces the head of a stored object (a 304)") {
  cache::Cache c(small());
  REQUIRE(put(c, "a.test", "/r", "body"));
  auto o = c.lookup(key("a.test", "/r"), kNoVary);
  REQUIRE(o);
  auto h = o->head().to_owned();
  h.fields = "X-Refreshed: 1\r\n";
  auto fresh = c.refresh(o, h);
  REQUIRE(fresh);
  auto again = c.lookup(key("a.test", "/r"), kNoVary);
  REQUIRE(again);
  CHECK(again->head().fields() == "X-Refreshed: 1\r\n");
  CHECK(again->memory_at(0) == "body");
}

namespace {

struct TestObject : private cache::OwnedHead, cache::Object {
  TestObject(const cache::ObjectHead& h, uint64_t seq)
      : cache::OwnedHead(h),
        cache::Object(cache::CacheKey{1, 2}, stored(), cache::Tier::kMemory, seq) {}
  std::string_view memory_at(uint64_t) const override { return {}; }
  int file(uint64_t&) const override { return -1; }
};

}  // namespace

TEST_CASE("a ban applies only to older objects and is forgotten once none is older") {
  cache::BanList bans;
  cache::Ban b;
  b.sequence = 100;
  b.host = "a.test";
  b.prefix = "/docs/";
  bans.add(b);
  CHECK(bans.banned(TestObject(head("a.test", "/docs/x", 1), 99)));
  CHECK_FALSE(bans.banned(TestObject(head("a.test", "/docs/x", 1), 101)));
  CHECK_FALSE(bans.banned(TestObject(head("b.test", "/docs/x", 1), 99)));
  CHECK_FALSE(bans.banned(TestObject(head("a.test", "/doc", 1), 99)));
  bans.trim(50);  // an object older than the ban may still be stored
  CHECK(bans.size() == 1);
  bans.trim(100);
  CHECK(bans.size() == 0);
  CHECK_FALSE(bans.banned(TestObject(head("a.test", "/docs/x", 1), 99)));
}

TEST_CASE("bans on a cache whose objects are all newer are trimmed at once") {
  cache::Cache c(small());
  c.ban_prefix("", "/");
  REQUIRE(put(c, "a.test", "/x", "1"));
  CHECK(c.lookup(key("a.test", "/x"), kNoVary) != nullptr);
  CHECK(c.stats().banned.load() == 0);
}

TEST_CASE("reconfigure shrinks the memory tier by eviction") {
  cache::Cache c(small());
  const std::string body(10000, 'r');
  for (int i = 0; i < 200; ++i) REQUIRE(put(c, "a.test", "/r/" + std::to_string(i), body));
  CHECK(c.memory_stats().objects.load() == 200);
  cache::CacheSettings s = small();
  s.memory = 500'000;
  c.reconfigure(s);
  CHECK(c.memory_stats().bytes.load() <= 500'000);
  CHECK(c.memory_stats().evictions.load() > 0);
  c.start_background_work();  // no disk tier: nothing to start
}

TEST_CASE("a ban issued while a fill is in flight applies to that fill's object") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/docs/inflight");
  auto w = c.fill(k, head("a.test", "/docs/inflight", 1), false);
  REQUIRE(w);
  c.ban_prefix("", "/docs/");
  for (int i = 0; i < 5000; ++i) c.lookup(key("a.test", "/none"), kNoVary);  // trims run
  REQUIRE(w->append("x", 1));
  REQUIRE(w->commit());
  CHECK(c.lookup(k, kNoVary) == nullptr);
  CHECK(c.stats().banned.load() == 1);
}

TEST_CASE("RFC 9111 4: the waiters of a collapsed revalidation are given the object it validated") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/r");
  auto w = c.fill(k, head("a.test", "/r", 3), false);
  REQUIRE(w);
  REQUIRE(w->append("abc", 3));
  auto stored = w->object();
  REQUIRE(w->commit());
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);  // the revalidation's leader
  auto pending = c.join_or_lead(k, nullptr);
  REQUIRE(pending);
  c.settle_object(k, stored);
  CHECK(pending->state() == cache::PendingFill::State::kObject);
  CHECK(pending->object() == stored);
  CHECK(c.join_or_lead(k, nullptr) == nullptr);  // the table forgot it: the next one leads
}

TEST_CASE("RFC 9111 4.2.4: a backend error releases the waiters as an error, not remembered") {
  cache::Cache c(small());
  const cache::CacheKey k = key("a.test", "/e");
  REQUIRE(c.join_or_lead(k, nullptr) == nullptr);
  auto pending = c.join_or_lead(k, nullptr);
  REQUIRE(pending);
  c.settle_error(k);
  CHECK(pending->state() == cache::PendingFill::State::kError);
  bool uncacheable = true;
  CHECK(c.join_or_lead(k, &uncacheable) == nullptr);
  CHECK_FALSE(uncacheable);
}
