// SPDX-License-Identifier: MIT
#include "proxy/offload/file_roots.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace proxy::offload {
namespace {

std::string_view trimmed(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return dir;
}

}  // namespace

base::Expected<void, std::string> FileRoots::add(const std::string& dir) {
  const std::string_view name = trimmed(dir);
  if (fd(name) >= 0) return {};
  const int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return base::unexpected("cannot open directory " + dir + ": " + strerror(errno));
  roots_.push_back(Root{std::string(name), base::UniqueFd(fd)});
  return {};
}

int FileRoots::fd(std::string_view dir) const {
  const std::string_view name = trimmed(dir);
  for (const auto& r : roots_)
    if (r.dir == name) return r.fd.get();
  return -1;
}

}  // namespace proxy::offload
