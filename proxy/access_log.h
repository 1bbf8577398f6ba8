// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <string>

#include "proxy/base/unique_fd.h"

namespace proxy {

struct Exchange;

// The access log: one line per exchange, in nginx's "combined" format or as JSON, appended with
// a single write(2) so lines from several threads never interleave.
//
// "-", "/dev/stdout" and "/dev/stderr" name the descriptors the process inherited (a duplicate
// of 1 or 2), not a new open of the file behind them: with `> log 2>&1` the error log and the
// access log then share one file offset and never overwrite each other. Reopening keeps them.
class AccessLog {
 public:
  enum class Format { kCombined, kJson };
  // Opens (creating) the file; false with errno if it cannot be opened.
  bool open(const std::string& path, Format format);
  // Takes |fd|, opened for |path| by the main process (a reload: the worker may not be allowed
  // to open the file itself).
  void adopt(const std::string& path, Format format, base::UniqueFd fd);
  static Format format_named(const std::string& name) {
    return name == "json" ? Format::kJson : Format::kCombined;
  }
  // The descriptor, for the main process to pass to its worker.
  int fd() const { return fd_.get(); }
  // Reopens the same path (log rotation, SIGUSR1); an inherited descriptor is kept as it is.
  bool reopen();
  // Makes the file |uid|'s, when gatehouse opened it as root for a worker that runs as |uid|:
  // the worker reopens it at USR1 (nginx chowns its logs the same way). Not for the inherited
  // stdout and stderr.
  void give_to(uid_t uid, gid_t gid) const;
  void write(const Exchange& ex);

  // The line write() appends for |ex|, with its final newline; returns its length (at most cap).
  static size_t format(const Exchange& ex, Format format, char* out, size_t cap);

 private:
  std::string path_;
  Format format_ = Format::kCombined;
  int inherited_ = -1;  // 1 or 2 when path_ names the process's stdout or stderr
  base::UniqueFd fd_;
};

}  // namespace proxy
