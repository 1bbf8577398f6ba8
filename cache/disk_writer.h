// SPDX-License-Identifier: MIT
#pragma once

#include <xxhash.h>

#include <memory>
#include <string>

#include "cache/disk_context.h"
#include "cache/disk_object.h"
#include "cache/object.h"

namespace cache::disk {

// Streams one object's body into its temporary file: each append is pwritten at once (nothing
// is buffered, so a 2 GiB body costs no memory) and hashed, then published to the readers that
// follow the fill. commit() writes the trailer and renames the file into place; nothing is
// synced (see disk_storage.cc for why that is safe).
class DiskWriter final : public ObjectWriter {
 public:
  DiskWriter(DiskContext& ctx, Ref<DiskObject> obj, std::string temp_path);
  ~DiskWriter() override;

  ObjectRef object() const override { return obj_; }
  bool append(const char* data, size_t len) override;
  bool commit() override;
  void abort() override;

 private:
  DiskContext& ctx_;
  Ref<DiskObject> obj_;
  std::string temp_path_;
  XXH3_state_t* hash_;
  uint64_t written_ = 0;
  bool done_ = false;
};

}  // namespace cache::disk
