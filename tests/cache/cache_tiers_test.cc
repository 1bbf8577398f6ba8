// SPDX-License-Identifier: MIT
// The Cache with a disk tier: which tier a fill goes to, promotion of small disk hits, purge and
// the background index rebuild. The disk is a stand-in (objects in memory, marked kDisk): the
// real one passes the storage conformance suite on its own.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "cache/cache.h"
#include "cache/cache_key.h"
#include "cache/disk_storage.h"

namespace {

class FakeDiskObject final : private cache::OwnedHead, public cache::Object {
 public:
  FakeDiskObject(const cache::CacheKey& k, const cache::ObjectHead& h, uint64_t seq)
      : cache::OwnedHead(h), cache::Object(k, stored(), cache::Tier::kDisk, seq) {}
  std::string_view memory_at(uint64_t off) const override {
    return off < available() ? std::string_view(body).substr(off, available() - off) : "";
  }
  int file(uint64_t&) const override { return -1; }
  void add(const char* d, size_t n) {
    body.append(d, n);
    publish(body.size());
  }
  void end(bool ok) { finish(ok ? kComplete : kAborted); }
  std::string body;
};

class FakeDisk final : public cache::DiskStorage {
 public:
  cache::ObjectRef lookup(const cache::CacheKey& key,
                          const std::function<bool(const cache::StoredHead&)>& m) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key.lo);
    if (it == objects_.end() || !m(it->second->head())) return nullptr;
    return it->second;
  }
  std::unique_ptr<cache::ObjectWriter> begin(const cache::CacheKey& key, cache::ObjectHead head,
                                             uint64_t seq) override {
    struct Writer : cache::ObjectWriter {
      FakeDisk* disk;
      cache::Ref<FakeDiskObject> obj;
      bool done = false;
      cache::ObjectRef object() const override { return obj; }
      bool append(const char* d, size_t n) override {
        obj->add(d, n);
        return true;
      }
      bool commit() override {
        done = true;
        obj->end(true);
        std::lock_guard lock(disk->mu_);
        disk->objects_[obj->key().lo] = obj;
        disk->stats_.objects = disk->objects_.size();
        return true;
      }
      void abort() override {
        done = true;
        obj->end(false);
      }
      ~Writer() override {
        if (!done) abort();
      }
    };
    auto w = std::make_unique<Writer>();
    w->disk = this;
    w->obj = cache::make_ref<FakeDiskObject>(key, std::move(head), seq);
    return w;
  }
  cache::ObjectRef update_head(const cache::ObjectRef& old, cache::ObjectHead head) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(old->key().lo);
    if (it == objects_.end()) return nullptr;
    auto fresh = cache::make_ref<FakeDiskObject>(old->key(), std::move(head), old->sequence());
    fresh->add(it->second->body.data(), it->second->body.size());
    fresh->end(true);
    it->second = fresh;
    return fresh;
  }
  size_t remove(const cache::CacheKey& key) override {
    std::lock_guard lock(mu_);
    const size_t n = objects_.erase(key.lo);
    stats_.objects = objects_.size();
    return n;
  }
  void remove(const cache::ObjectRef& o) override { remove(o->key()); }
  const cache::TierStats& stats() const override { return stats_; }
  void rebuild_index() override {
    rebuilt = true;
    if (rebuilt_flag) *rebuilt_flag = true;
  }
  bool index_ready() const override { return rebuilt; }
  void stop_rebuild() override {}
  void resize(uint64_t) override {}
  void discard_fills() override {}

  std::atomic<bool> rebuilt{false};
  std::atomic<bool>* rebuilt_flag = nullptr;  // outlives the disk, for the rebuild test

 private:
  std::mutex mu_;
  std::map<uint64_t, cache::Ref<FakeDiskObject>> objects_;
  cache::TierStats stats_;
};

cache::CacheKey key(std::string_view path) {
  return cache::make_key("http", "a.test", path, "", false, false);
}

cache::ObjectHead head(std::optional<uint64_t> size) {
  cache::ObjectHead h;
  h.host = "a.test";
  h.path = "/";
  h.body_size = size;
  return h;
}

const auto kNoVary = [](std::string_view) { return std::string(); };

struct Fixture {
  Fixture() {
    settings.memory = 1 << 20;
    settings.memory_object_limit = 1000;
    auto d = std::make_unique<FakeDisk>();
    disk = d.get();
    cache = std::make_unique<cache::Cache>(settings, std::move(d));
  }
  cache::ObjectRef store(std::string_view path, const std::string& body, bool size_known) {
    auto w = cache->fill(
        key(path), head(size_known ? std::optional<uint64_t>(body.size()) : std::nullopt), false);
    if (!w) return nullptr;
    auto o = w->object();
    w->append(body.data(), body.size());
    return w->commit() ? o : nullptr;
  }
  cache::CacheSettings settings;
  FakeDisk* disk;
  std::unique_ptr<cache::Cache> cache;
};

}  // namespace

TEST_CASE("fills go to memory when small and known, to disk when large or of unknown size") {
  Fixture f;
  auto small = f.store("/small", std::string(100, 's'), true);
  REQUIRE(small);
  CHECK(small->tier() == cache::Tier::kMemory);
  auto large = f.store("/large", std::string(5000, 'l'), true);
  REQUIRE(large);
  CHECK(large->tier() == cache::Tier::kDisk);
  auto unknown = f.store("/unknown", std::string(10, 'u'), false);
  REQUIRE(unknown);
  CHECK(unknown->tier() == cache::Tier::kDisk);
  REQUIRE(f.cache->disk_stats());
  CHECK(f.cache->disk_stats()->objects.load() == 2);
  CHECK(f.cache->memory_stats().objects.load() == 1);
}

TEST_CASE("a small disk hit is promoted to memory; a large one is served from disk") {
  Fixture f;
  REQUIRE(f.store("/unknown", "tiny body", false));
  auto first = f.cache->lookup(key("/unknown"), kNoVary);
  REQUIRE(first);
  CHECK(first->tier() == cache::Tier::kMemory);
  CHECK(first->memory_at(0) == "tiny body");
  auto second = f.cache->lookup(key("/unknown"), kNoVary);
  REQUIRE(second);
  CHECK(second->tier() == cache::Tier::kMemory);
  REQUIRE(f.store("/large", std::string(5000, 'l'), true));
  auto large = f.cache->lookup(key("/large"), kNoVary);
  REQUIRE(large);
  CHECK(large->tier() == cache::Tier::kDisk);
}

TEST_CASE("purge drops the key from both tiers") {
  Fixture f;
  REQUIRE(f.store("/p", "body", false));
  REQUIRE(f.cache->lookup(key("/p"), kNoVary));  // now in both tiers
  CHECK(f.cache->memory_stats().objects.load() == 1);
  CHECK(f.cache->purge(key("/p")) == 1);  // one variant, though two copies
  CHECK(f.cache->memory_stats().objects.load() == 0);
  CHECK(f.cache->disk_stats()->objects.load() == 0);
  CHECK(f.cache->lookup(key("/p"), kNoVary) == nullptr);
}

TEST_CASE("a 304 on a promoted copy refreshes the disk copy too") {
  Fixture f;
  REQUIRE(f.store("/r", "body", false));
  auto mem = f.cache->lookup(key("/r"), kNoVary);
  REQUIRE(mem);
  auto h = mem->head().to_owned();
  h.fields = "X-Fresh: 1\r\n";
  REQUIRE(f.cache->refresh(mem, h));
  auto on_disk = f.disk->lookup(key("/r"), [](const cache::StoredHead&) { return true; });
  REQUIRE(on_disk);
  CHECK(on_disk->head().fields() == "X-Fresh: 1\r\n");
}

TEST_CASE("start_background_work rebuilds the disk index on another thread") {
  Fixture f;
  std::atomic<bool> rebuilt{false};
  f.disk->rebuilt_flag = &rebuilt;
  f.cache->start_background_work();
  f.cache->start_background_work();  // once only
  f.cache.reset();                   // joins the rebuild
  CHECK(rebuilt.load());
}
