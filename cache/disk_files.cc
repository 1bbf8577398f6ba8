// SPDX-License-Identifier: MIT
#include "cache/disk_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace cache::disk {

bool pwrite_all(int fd, const char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool pread_all(int fd, char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    const ssize_t n = ::pread(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool make_fanout_dirs(int root, std::string_view path) {
  const std::string a(path.substr(0, 2)), ab(path.substr(0, 5));
  if (::mkdirat(root, a.c_str(), 0755) != 0 && errno != EEXIST) return false;
  if (::mkdirat(root, ab.c_str(), 0755) != 0 && errno != EEXIST) return false;
  return true;
}

std::vector<std::pair<std::string, unsigned char>> list_dir(int root, const std::string& path) {
  std::vector<std::pair<std::string, unsigned char>> names;
  const int fd = ::openat(root, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return names;
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name, e->d_type);
  }
  ::closedir(dir);
  return names;
}

}  // namespace cache::disk
