// SPDX-License-Identifier: MIT
//
// Durability: nothing is fsynced, neither at commit nor at a head update. fdatasync at commit
// would stall the filling event loop for milliseconds to seconds, per object. What a crash can
// do instead:
// - a process crash (kill -9): the page cache keeps every byte written; a fill in progress is
//   only a temporary file (tmp/), never under an object's name, and the next rebuild deletes it.
//   A published name always holds a whole file: the trailer is written before the rename.
// - a power loss or kernel crash: recent objects may be lost, and a renamed file may come back
//   with missing or stale blocks. The rebuild catches that: it checks both checksums of every
//   file (the head slot's and the whole body's against the trailer) before indexing it, so a
//   torn object is never served, only dropped.
// Objects this process wrote are served without re-reading them: their bytes went through the
// hash on their way in.
#include "cache/disk_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "cache/disk_context.h"
#include "cache/disk_files.h"
#include "cache/disk_format.h"
#include "cache/disk_writer.h"
#include "proxy/base/log.h"

namespace cache {
namespace {

using disk::DiskContext;
using disk::DiskEntry;
using disk::DiskObject;
using proxy::base::UniqueFd;

class DiskStorageImpl final : public DiskStorage {
 public:
  explicit DiskStorageImpl(std::unique_ptr<DiskContext> ctx) : ctx_(std::move(ctx)) {}
  ~DiskStorageImpl() override { ctx_->stopping.store(true); }

  // A hit opens the file (the index holds no fds) and copies the head into a new Object.
  ObjectRef lookup(const CacheKey& key,
                   const std::function<bool(const StoredHead&)>& matches) override {
    UniqueFd fd;
    auto entry = ctx_->index.find(key, matches, fd);
    if (!entry) return nullptr;
    auto obj =
        make_ref<DiskObject>(std::move(entry), std::make_shared<const UniqueFd>(std::move(fd)));
    obj->completed(obj->entry()->head.body_size().value_or(0));
    return obj;
  }

  std::unique_ptr<ObjectWriter> begin(const CacheKey& key, ObjectHead head,
                                      uint64_t sequence) override;
  ObjectRef update_head(const ObjectRef& old, ObjectHead head) override;

  size_t remove(const CacheKey& key) override { return ctx_->index.erase_key(key, !index_ready()); }
  void remove(const ObjectRef& object) override {
    if (object && object->tier() == Tier::kDisk)
      ctx_->index.erase(*static_cast<const DiskObject&>(*object).entry());
  }

  const TierStats& stats() const override { return ctx_->stats; }

  void rebuild_index() override {
    if (!disk::rebuild(*ctx_)) return;
    ready_.store(true, std::memory_order_release);
    // Operators (and the integration tests) learn when every kept object is a hit again.
    LOG_INFO("cache disk index rebuilt: %llu objects, %llu bytes",
             static_cast<unsigned long long>(ctx_->stats.objects.load(std::memory_order_relaxed)),
             static_cast<unsigned long long>(ctx_->stats.bytes.load(std::memory_order_relaxed)));
  }
  void stop_rebuild() override { ctx_->stopping.store(true); }
  bool index_ready() const override { return ready_.load(std::memory_order_acquire); }
  void resize(uint64_t size) override {
    ctx_->index.set_capacity(size);
    ctx_->index.make_room(0);
  }
  void discard_fills() override {
    const int root = ctx_->root.get();
    for (const auto& [name, type] : disk::list_dir(root, "tmp"))
      if (name.compare(0, ctx_->instance.size(), ctx_->instance) == 0)
        ::unlinkat(root, ("tmp/" + name).c_str(), 0);
  }

 private:
  // A head too large for its file's slots: a new file with larger ones and a copy of the body.
  ObjectRef rewrite(const DiskObject& old, ObjectHead head);
  // Creates a temporary file with |head| in slot 0; its name goes to |temp_path|.
  UniqueFd create_temp(const CacheKey& key, const ObjectHead& head, uint32_t slot_size,
                       std::string& temp_path);

  std::unique_ptr<DiskContext> ctx_;
  std::atomic<bool> ready_{false};
};

UniqueFd DiskStorageImpl::create_temp(const CacheKey& key, const ObjectHead& head,
                                      uint32_t slot_size, std::string& temp_path) {
  const std::string slot = disk::encode_slot(key, head, 0, slot_size);
  if (slot.empty()) return UniqueFd();
  temp_path = "tmp/" + ctx_->instance + "-" +
              std::to_string(ctx_->temp_counter.fetch_add(1, std::memory_order_relaxed));
  UniqueFd fd(
      ::openat(ctx_->root.get(), temp_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return fd;
  if (!disk::pwrite_all(fd.get(), slot.data(), slot.size(), 0)) {
    ::unlinkat(ctx_->root.get(), temp_path.c_str(), 0);
    return UniqueFd();
  }
  return fd;
}

std::unique_ptr<ObjectWriter> DiskStorageImpl::begin(const CacheKey& key, ObjectHead head,
                                                     uint64_t sequence) {
  const uint32_t slot_size = disk::choose_slot_size(disk::encoded_slot_size(head));
  if (slot_size > disk::kMaxSlotSize) return nullptr;
  if (head.body_size && disk::file_size(slot_size, *head.body_size) > ctx_->index.capacity())
    return nullptr;
  std::string temp_path;
  UniqueFd fd = create_temp(key, head, slot_size, temp_path);
  if (!fd) return nullptr;
  const uint64_t vhash = disk::variant_hash(head.variant);
  auto entry = std::make_shared<DiskEntry>(key, std::move(head), sequence, slot_size, vhash,
                                           disk::object_path(key, vhash));
  auto obj =
      make_ref<DiskObject>(std::move(entry), std::make_shared<const UniqueFd>(std::move(fd)));
  return std::make_unique<disk::DiskWriter>(*ctx_, std::move(obj), std::move(temp_path));
}

ObjectRef DiskStorageImpl::update_head(const ObjectRef& old, ObjectHead head) {
  if (!old || old->tier() != Tier::kDisk || !old->complete()) return nullptr;
  const auto& d = static_cast<const DiskObject&>(*old);
  // The variant names the file: a refresh keeps the one it was stored for.
  head.variant = old->head().variant();
  head.body_size = old->available();
  if (disk::encoded_slot_size(head) > d.slot_size()) return rewrite(d, std::move(head));
  const DiskEntry& was = *d.entry();
  auto entry =
      std::make_shared<DiskEntry>(was.key, head, was.sequence, was.slot_size, was.vhash, was.path);
  // The new generation goes into the slot not in use: a torn write leaves the old one valid.
  const bool ok = ctx_->index.replace(was, entry, [&](uint64_t generation) {
    const std::string slot = disk::encode_slot(was.key, head, generation + 1, was.slot_size);
    if (!disk::pwrite_all(d.fd()->get(), slot.data(), slot.size(),
                          ((generation + 1) % 2) * was.slot_size))
      return false;
    entry->generation = generation + 1;
    return true;
  });
  if (!ok) return nullptr;
  auto fresh = make_ref<DiskObject>(std::move(entry), d.fd());
  fresh->completed(old->available());
  return fresh;
}

ObjectRef DiskStorageImpl::rewrite(const DiskObject& old, ObjectHead head) {
  const uint64_t size = old.available();
  const uint32_t slot_size = disk::choose_slot_size(disk::encoded_slot_size(head));
  disk::Trailer t;
  std::string trailer(disk::kTrailerSize, '\0');
  if (slot_size > disk::kMaxSlotSize ||
      !disk::pread_all(old.fd()->get(), trailer.data(), trailer.size(),
                       disk::body_offset(old.slot_size()) + size) ||
      !disk::decode_trailer(trailer, t) || t.body_size != size)
    return nullptr;
  std::string temp_path;
  UniqueFd fd = create_temp(old.key(), head, slot_size, temp_path);
  if (!fd) return nullptr;
  loff_t in = static_cast<loff_t>(disk::body_offset(old.slot_size()));
  loff_t out = static_cast<loff_t>(disk::body_offset(slot_size));
  bool ok = true;
  for (uint64_t left = size; ok && left > 0;) {
    const ssize_t n = ::copy_file_range(old.fd()->get(), &in, fd.get(), &out, left, 0);
    ok = n > 0;
    if (ok) left -= static_cast<uint64_t>(n);
  }
  t.slot_size = slot_size;
  trailer = disk::encode_trailer(t);
  ok = ok && disk::pwrite_all(fd.get(), trailer.data(), trailer.size(), static_cast<uint64_t>(out));
  const DiskEntry& was = *old.entry();
  auto entry = std::make_shared<DiskEntry>(was.key, std::move(head), was.sequence, slot_size,
                                           was.vhash, was.path);
  entry->file_bytes = disk::file_size(slot_size, size);
  auto fresh = make_ref<DiskObject>(entry, std::make_shared<const UniqueFd>(std::move(fd)));
  const int root = ctx_->root.get();
  // Under the key's shard lock: only if |old| is still the stored one (not purged meanwhile).
  ok = ok && ctx_->index.insert(entry, false, [&] {
    return was.indexed && ::renameat(root, temp_path.c_str(), root, was.path.c_str()) == 0;
  });
  if (!ok) {
    ::unlinkat(root, temp_path.c_str(), 0);
    return nullptr;
  }
  fresh->completed(size);
  return fresh;
}

std::string instance_id() {
  std::random_device rd;
  const uint64_t v =
      (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid()) ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  static const char* kHex = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 0; i < 16; ++i) s[i] = kHex[(v >> (4 * i)) & 15];
  return s;
}

}  // namespace

proxy::base::Expected<std::unique_ptr<DiskStorage>, std::string> DiskStorage::open(
    const std::string& path, uint64_t size) {
  std::error_code ec;
  std::filesystem::create_directories(path + "/tmp", ec);
  if (ec) return proxy::base::unexpected("cache.disk.path " + path + ": " + ec.message());
  UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root)
    return proxy::base::unexpected("cache.disk.path " + path + ": " + std::strerror(errno));
  auto ctx = std::make_unique<DiskContext>(std::move(root), instance_id(), size);
  return std::unique_ptr<DiskStorage>(std::make_unique<DiskStorageImpl>(std::move(ctx)));
}

}  // namespace cache
