// SPDX-License-Identifier: MIT
#include "cache/disk_index.h"

#include "cache/disk_files.h"
#include "cache/disk_format.h"

#include <fcntl.h>
#include <unistd.h>

namespace cache::disk {

std::shared_ptr<DiskEntry> DiskIndex::find(const CacheKey& key,
                                           const std::function<bool(const StoredHead&)>& matches,
                                           proxy::base::UniqueFd& fd) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) return nullptr;
  Variants& vs = it->second;
  for (size_t i = vs.size(); i-- > 0;) {
    if (!matches(vs[i]->head)) continue;
    fd.reset(::openat(root_fd_, vs[i]->path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd) return vs[i];
    drop_locked(vs, i, false);  // deleted behind our back
    if (vs.empty()) s.map.erase(it);
    return nullptr;
  }
  return nullptr;
}

void DiskIndex::drop_locked(Variants& variants, size_t i, bool unlink) {
  std::shared_ptr<DiskEntry> obj = std::move(variants[i]);
  variants.erase(variants.begin() + static_cast<ptrdiff_t>(i));
  obj->indexed = false;
  if (unlink) ::unlinkat(root_fd_, obj->path.c_str(), 0);
  stats_.objects.fetch_sub(1, std::memory_order_relaxed);
  stats_.bytes.fetch_sub(obj->file_bytes, std::memory_order_relaxed);
  std::lock_guard lock(queue_mu_);
  queue_.erase(obj->queue_pos);
}

bool DiskIndex::insert(const std::shared_ptr<DiskEntry>& obj, bool if_absent,
                       const std::function<bool()>& publish) {
  if (obj->file_bytes > capacity()) return false;
  make_room(obj->file_bytes);
  Shard& s = shard_of(obj->key);
  {
    std::lock_guard lock(s.mu);
    auto it = s.map.find(obj->key);
    size_t same = SIZE_MAX;
    if (it != s.map.end()) {
      for (size_t i = 0; i < it->second.size(); ++i)
        if (it->second[i]->vhash == obj->vhash) same = i;
    }
    if (same != SIZE_MAX && if_absent) return false;
    if (!publish()) return false;
    if (it == s.map.end()) it = s.map.emplace(obj->key, Variants{}).first;
    if (same != SIZE_MAX) drop_locked(it->second, same, false);  // the rename replaced its file
    it->second.push_back(obj);
    obj->indexed = true;
    stats_.objects.fetch_add(1, std::memory_order_relaxed);
    stats_.bytes.fetch_add(obj->file_bytes, std::memory_order_relaxed);
    std::lock_guard qlock(queue_mu_);
    obj->queue_pos = queue_.insert(if_absent ? queue_.begin() : queue_.end(), obj);
  }
  // Concurrent inserts may each have found room for themselves alone.
  make_room(0);
  return true;
}

bool DiskIndex::replace(const DiskEntry& old, const std::shared_ptr<DiskEntry>& fresh,
                        const std::function<bool(uint64_t generation)>& write) {
  Shard& s = shard_of(old.key);
  std::lock_guard lock(s.mu);
  if (!old.indexed) return false;
  auto it = s.map.find(old.key);
  if (it == s.map.end()) return false;
  for (auto& v : it->second) {
    if (v.get() != &old) continue;
    if (!write(old.generation)) return false;
    fresh->file_bytes = old.file_bytes;
    fresh->indexed = true;
    std::lock_guard qlock(queue_mu_);
    fresh->queue_pos = v->queue_pos;
    *fresh->queue_pos = fresh;
    v->indexed = false;
    v = fresh;
    return true;
  }
  return false;
}

size_t DiskIndex::erase_key(const CacheKey& key, bool sweep) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  size_t n = 0;
  auto it = s.map.find(key);
  if (it != s.map.end()) {
    n = it->second.size();
    while (!it->second.empty()) drop_locked(it->second, it->second.size() - 1, true);
    s.map.erase(it);
  }
  if (sweep) {
    const std::string path = object_path(key, 0);
    const std::string dir = path.substr(0, 5), prefix = path.substr(6, 32);
    for (const auto& [name, type] : list_dir(root_fd_, dir))
      if (name.compare(0, prefix.size(), prefix) == 0)
        n += ::unlinkat(root_fd_, (dir + "/" + name).c_str(), 0) == 0;
  }
  return n;
}

void DiskIndex::erase(const DiskEntry& obj) {
  Shard& s = shard_of(obj.key);
  std::lock_guard lock(s.mu);
  if (!obj.indexed) return;
  auto it = s.map.find(obj.key);
  if (it == s.map.end()) return;
  for (size_t i = 0; i < it->second.size(); ++i) {
    if (it->second[i].get() != &obj) continue;
    drop_locked(it->second, i, true);
    if (it->second.empty()) s.map.erase(it);
    return;
  }
}

void DiskIndex::unlink_unless_indexed(const CacheKey& key, uint64_t vhash,
                                      const std::string& path) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(key);
  if (it != s.map.end())
    for (const auto& v : it->second)
      if (v->vhash == vhash) return;
  ::unlinkat(root_fd_, path.c_str(), 0);
}

void DiskIndex::make_room(uint64_t incoming) {
  while (stats_.bytes.load(std::memory_order_relaxed) + incoming > capacity()) {
    std::shared_ptr<DiskEntry> victim;
    {
      std::lock_guard qlock(queue_mu_);
      if (queue_.empty()) return;
      // CLOCK: a hit since the hand last passed buys one more round.
      for (size_t n = queue_.size(); n > 0 && queue_.front()->take_referenced(); --n)
        queue_.splice(queue_.end(), queue_, queue_.begin());
      victim = queue_.front();
    }
    Shard& s = shard_of(victim->key);
    std::lock_guard lock(s.mu);
    if (!victim->indexed) continue;  // removed meanwhile
    auto it = s.map.find(victim->key);
    for (size_t i = 0; i < it->second.size(); ++i) {
      if (it->second[i] != victim) continue;
      drop_locked(it->second, i, true);
      stats_.evictions.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    if (it->second.empty()) s.map.erase(it);
  }
}

}  // namespace cache::disk
