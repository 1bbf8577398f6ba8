// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "proxy/base/unique_fd.h"

namespace proxy {

struct Exchange;

// The access log: one line per exchange, in nginx's "combined" format or as JSON, appended with
// a single write(2) so lines from several threads never interleave.
class AccessLog {
 public:
  enum class Format { kCombined, kJson };
  // Opens (creating) the file; false with errno if it cannot be opened.
  bool open(const std::string& path, Format format);
  // Reopens the same path (log rotation, SIGUSR1).
  bool reopen();
  void write(const Exchange& ex);

 private:
  std::string path_;
  Format format_ = Format::kCombined;
  base::UniqueFd fd_;
};

}  // namespace proxy
