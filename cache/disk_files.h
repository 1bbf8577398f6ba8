// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Small POSIX file helpers of the disk tier; paths are relative to the cache directory's fd.
namespace cache::disk {

// Whole-buffer pwrite/pread (retrying short transfers and EINTR). False on any error or EOF.
bool pwrite_all(int fd, const char* data, size_t len, uint64_t offset);
bool pread_all(int fd, char* data, size_t len, uint64_t offset);

// The names in directory |path| (relative to |root|) with their d_type; empty if unreadable.
std::vector<std::pair<std::string, unsigned char>> list_dir(int root, const std::string& path);

// Creates "ab" and "ab/cd" for |path| (object_path's form) if missing.
bool make_fanout_dirs(int root, std::string_view path);

}  // namespace cache::disk
