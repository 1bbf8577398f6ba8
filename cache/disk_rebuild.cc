// SPDX-License-Identifier: MIT
// The disk tier's start: the scan that rebuilds the index from the files.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "cache/disk_context.h"
#include "cache/disk_files.h"
#include "cache/disk_format.h"

namespace cache::disk {

namespace {

bool is_fanout_name(const std::string& s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return s.size() == 2 && hex(s[0]) && hex(s[1]);
}

// Reads and checks one object file; indexes it if it is intact. False: the file is not an
// intact object (the caller deletes it).
bool load_object(DiskContext& ctx, const std::string& path, const CacheKey& key, uint64_t vhash,
                 std::vector<char>& buf) {
  const int root = ctx.root.get();
  proxy::base::UniqueFd fd(::openat(root, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string bytes(kTrailerSize, '\0');
  Trailer t;
  if (size < kTrailerSize ||
      !pread_all(fd.get(), bytes.data(), kTrailerSize, size - kTrailerSize) ||
      !decode_trailer(bytes, t) || !(t.key == key) || file_size(t.slot_size, t.body_size) != size)
    return false;
  // The head: the intact slot with the highest generation (a torn update leaves the other).
  bytes.assign(2ull * t.slot_size, '\0');
  if (!pread_all(fd.get(), bytes.data(), bytes.size(), 0)) return false;
  DecodedSlot best, slot;
  bool found = false;
  for (int i = 0; i < 2; ++i) {
    const std::string_view region = std::string_view(bytes).substr(i * t.slot_size, t.slot_size);
    if (!decode_slot(region, slot) || slot.slot_size != t.slot_size || !(slot.key == key) ||
        variant_hash(slot.head.variant) != vhash || slot.generation % 2 != static_cast<unsigned>(i))
      continue;
    if (!found || slot.generation > best.generation) best = std::move(slot);
    found = true;
  }
  if (!found) return false;
  // The whole body, once: this process did not write it, and no byte of it is served unchecked.
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> hash(XXH3_createState(),
                                                                &XXH3_freeState);
  XXH3_64bits_reset(hash.get());
  for (uint64_t off = 0; off < t.body_size;) {
    if (ctx.stopping.load(std::memory_order_relaxed)) return false;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), t.body_size - off));
    if (!pread_all(fd.get(), buf.data(), n, body_offset(t.slot_size) + off)) return false;
    XXH3_64bits_update(hash.get(), buf.data(), n);
    off += n;
  }
  if (XXH3_64bits_digest(hash.get()) != t.body_checksum) return false;

  best.head.body_size = t.body_size;
  // Sequence 0: stored before any ban this process records.
  auto entry = std::make_shared<DiskEntry>(key, std::move(best.head), 0, t.slot_size, vhash, path);
  entry->generation = best.generation;
  entry->file_bytes = size;
  fd.reset();  // the index keeps no fds: a hit opens the file
  if (size > ctx.index.capacity()) return false;
  ctx.index.insert(entry, true, [&] {
    // Still the file that was read (not replaced by a commit and removed since).
    struct stat now;
    return ::fstatat(root, path.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 &&
           now.st_ino == st.st_ino && now.st_dev == st.st_dev;
  });
  return true;
}

}  // namespace

bool rebuild(DiskContext& ctx) {
  const int root = ctx.root.get();
  // Interrupted fills of earlier processes.
  for (const auto& [name, type] : list_dir(root, "tmp"))
    if (name.compare(0, ctx.instance.size(), ctx.instance) != 0)
      ::unlinkat(root, ("tmp/" + name).c_str(), 0);

  std::vector<char> buf(1 << 20);
  for (const auto& [a, ta] : list_dir(root, ".")) {
    if (!is_fanout_name(a) || (ta != DT_DIR && ta != DT_UNKNOWN)) continue;
    for (const auto& [b, tb] : list_dir(root, a)) {
      if (!is_fanout_name(b) || (tb != DT_DIR && tb != DT_UNKNOWN)) continue;
      const std::string dir = a + "/" + b;
      for (const auto& [name, tn] : list_dir(root, dir)) {
        if (ctx.stopping.load(std::memory_order_relaxed)) return false;
        const std::string path = dir + "/" + name;
        CacheKey key;
        uint64_t vhash = 0;
        if (!parse_object_name(name, key, vhash) || object_path(key, vhash) != path) {
          ::unlinkat(root, path.c_str(), tn == DT_DIR ? AT_REMOVEDIR : 0);
          continue;
        }
        if (!load_object(ctx, path, key, vhash, buf) &&
            !ctx.stopping.load(std::memory_order_relaxed))
          ctx.index.unlink_unless_indexed(key, vhash, path);
      }
    }
  }
  return true;
}

}  // namespace cache::disk
