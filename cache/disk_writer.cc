// SPDX-License-Identifier: MIT
#include "cache/disk_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/disk_files.h"
#include "cache/disk_format.h"

namespace cache::disk {

DiskWriter::DiskWriter(DiskContext& ctx, Ref<DiskObject> obj, std::string temp_path)
    : ctx_(ctx), obj_(std::move(obj)), temp_path_(std::move(temp_path)), hash_(XXH3_createState()) {
  XXH3_64bits_reset(hash_);
}

DiskWriter::~DiskWriter() {
  if (!done_) abort();
  XXH3_freeState(hash_);
}

bool DiskWriter::append(const char* data, size_t len) {
  if (done_) return false;
  if (file_size(obj_->slot_size(), written_ + len) > ctx_.index.capacity() ||
      (obj_->head().body_size() && written_ + len > *obj_->head().body_size())) {
    abort();
    return false;
  }
  if (!pwrite_all(obj_->fd()->get(), data, len, body_offset(obj_->slot_size()) + written_)) {
    abort();
    return false;
  }
  XXH3_64bits_update(hash_, data, len);
  written_ += len;
  obj_->published(written_);
  return true;
}

bool DiskWriter::commit() {
  if (done_) return false;
  // A body shorter than its Content-Length is a truncated response: never stored.
  if (obj_->head().body_size() && *obj_->head().body_size() != written_) {
    abort();
    return false;
  }
  Trailer t;
  t.slot_size = obj_->slot_size();
  t.body_size = written_;
  t.body_checksum = XXH3_64bits_digest(hash_);
  t.key = obj_->key();
  const std::string trailer = encode_trailer(t);
  if (!pwrite_all(obj_->fd()->get(), trailer.data(), trailer.size(),
                  body_offset(t.slot_size) + written_) ||
      !make_fanout_dirs(ctx_.root.get(), obj_->entry()->path)) {
    abort();
    return false;
  }
  DiskEntry& entry = *obj_->entry();
  entry.file_bytes = file_size(t.slot_size, written_);
  entry.head.set_body_size(written_);
  const int root = ctx_.root.get();
  const bool stored = ctx_.index.insert(obj_->entry(), false, [&] {
    if (::renameat(root, temp_path_.c_str(), root, entry.path.c_str()) != 0) return false;
    obj_->completed(written_);
    return true;
  });
  if (!stored) {
    abort();
    return false;
  }
  done_ = true;
  return true;
}

void DiskWriter::abort() {
  if (done_) return;
  done_ = true;
  ::unlinkat(ctx_.root.get(), temp_path_.c_str(), 0);
  obj_->aborted_fill();
}

}  // namespace cache::disk
