// SPDX-License-Identifier: MIT
// The directories files are served from (issue 11), opened once per Runtime: `static:` roots,
// and (added by the X-Accel work in this same structure) `internal:` roots and sendfile_roots.
// Every file is then opened relative to one of these fds (safe_path.h), never by absolute path,
// so a root renamed or replaced after the config was loaded changes nothing until a reload,
// which builds a new Runtime and opens them again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"

namespace proxy::offload {

class FileRoots {
 public:
  FileRoots() = default;
  FileRoots(FileRoots&&) = default;
  FileRoots& operator=(FileRoots&&) = default;

  // Opens |dir| (absolute, as conf resolved it) with O_PATH | O_DIRECTORY | O_CLOEXEC, unless it
  // is open already (a trailing '/' does not make it another root). The error says why it could
  // not be opened.
  base::Expected<void, std::string> add(const std::string& dir);
  // The fd of |dir| as given to add() (trailing '/' ignored), or -1 if it is not a root.
  int fd(std::string_view dir) const;
  size_t size() const { return roots_.size(); }

 private:
  struct Root {
    std::string dir;  // without a trailing '/' (except "/" itself)
    base::UniqueFd fd;
  };
  std::vector<Root> roots_;
};

}  // namespace proxy::offload
