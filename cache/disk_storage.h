// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cache/storage.h"
#include "proxy/base/expected.h"

namespace cache {

// The disk tier (cache.disk): one file per object under |path|, bounded by |size| bytes. Bodies
// are written as they stream in, behind a checksummed header, to a temporary name, and renamed
// into place at commit (atomic publish); a crash mid-write leaves only a temporary file that the
// next start deletes. A flipped byte is caught by the checksums and the object dropped (a miss).
// Hits are read with file(): the downstream sends them with sendfile on plain connections.
class DiskStorage : public Storage {
 public:
  // Opens (creating) the directory. The index is empty until rebuild_index() has run.
  static proxy::base::Expected<std::unique_ptr<DiskStorage>, std::string> open(
      const std::string& path, uint64_t size);

  // Scans the directory and adds every intact object to the index (torn or corrupt files are
  // deleted). Meant to run on a background thread while gatehouse already serves: lookups and
  // fills work meanwhile, and objects become hits as they are found. Every body is read once
  // and checked against its checksum before it is indexed (this process did not write it).
  // The thread must be joined before the DiskStorage is destroyed; stop_rebuild() first makes
  // a running scan return soon (the index then stays partial: index_ready() stays false).
  virtual void rebuild_index() = 0;
  // The rebuild has finished (for tests and the status page).
  virtual bool index_ready() const = 0;

  // Makes a running rebuild_index() return soon (at shutdown, before joining its thread).
  virtual void stop_rebuild() = 0;

  // A reload changed cache.disk.size: a smaller size evicts down to it now.
  virtual void resize(uint64_t size) = 0;

  // Deletes the temporary files of this process's fills in progress: the process is about to
  // exit without unwinding them (the shutdown deadline's _exit). Their writers then fail at
  // commit (the rename finds no file), so nothing partial is published. Async-signal-unsafe;
  // call it from a normal thread.
  virtual void discard_fills() = 0;
};

}  // namespace cache
