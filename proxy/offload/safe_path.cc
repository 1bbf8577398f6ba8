// SPDX-License-Identifier: MIT
#include "proxy/offload/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "proxy/http/char_class.h"

namespace proxy::offload {
namespace {

// Flags of every file open: read only, never a controlling terminal, and non-blocking so that a
// FIFO is opened (and refused after fstat) instead of waiting for a writer.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// Cleared once openat2 turned out missing (ENOSYS): the walk is used from then on.
std::atomic<bool> g_have_openat2{true};

OpenResult from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return {OpenStatus::kNotFound, "no such file"};
    case EACCES:
    case EPERM:
      return {OpenStatus::kForbidden, "permission denied"};
    case EXDEV:
      return {OpenStatus::kRefused, "the path leaves the root (symlink or magic link)"};
    case ELOOP:
      return {OpenStatus::kRefused, "a symlink the open does not follow"};
    case ENXIO:
    case ENODEV:
      return {OpenStatus::kRefused, "not a regular file"};
    default:
      return {OpenStatus::kNotFound, "cannot open the file"};
  }
}

// fstat of a freshly opened |fd|: only a regular file is served.
OpenResult finish(int fd, OpenedFile& out) {
  base::UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return {OpenStatus::kNotFound, "cannot stat the file"};
  if (S_ISDIR(st.st_mode)) return {OpenStatus::kRefused, "a directory"};
  if (!S_ISREG(st.st_mode)) return {OpenStatus::kRefused, "not a regular file"};
  out.fd = std::move(owned);
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_sec = st.st_mtim.tv_sec;
  out.mtime_nsec = st.st_mtim.tv_nsec;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  return {OpenStatus::kOk, ""};
}

// A component that is a symlink: refused; anything else that failed: errno's verdict.
OpenResult component_error(int dir_fd, const char* name, int err) {
  struct stat st;
  if ((err == ELOOP || err == ENOTDIR) && ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode))
    return {OpenStatus::kRefused, "a symlink (openat2 unavailable: not followed)"};
  return from_errno(err);
}

}  // namespace

bool normalize_target(std::string_view raw, std::string& out, const char*& why) {
  out.clear();
  out.reserve(raw.size());
  size_t segment = 0;  // where the segment being written starts in |out|
  size_t i = 0;
  auto end_segment = [&]() -> bool {
    const std::string_view seg(out.data() + segment, out.size() - segment);
    if (seg.empty()) return true;  // "//": nothing to keep
    if (seg == ".") {
      out.resize(segment);
      return true;
    }
    if (seg == "..") {
      out.resize(segment);
      if (segment == 0) return false;  // above the root
      // Take back the previous segment ("a/" before this one).
      size_t prev = segment - 1;  // its '/'
      while (prev > 0 && out[prev - 1] != '/') --prev;
      out.resize(prev);
      segment = prev;
      return true;
    }
    out += '/';
    segment = out.size();
    return true;
  };
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '/') {
      ++i;
      if (!end_segment()) {
        why = "'..' climbs above the root";
        return false;
      }
      continue;
    }
    if (c == '%') {
      const int hi = i + 2 < raw.size() ? http::cc::hex_value_or_none(raw[i + 1]) : -1;
      const int lo = hi >= 0 ? http::cc::hex_value_or_none(raw[i + 2]) : -1;
      if (lo < 0) {
        why = "invalid percent-encoding";
        return false;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 3;
      if (c == '/') {
        why = "an encoded '/'";
        return false;
      }
    } else {
      ++i;
    }
    if (c == '\0') {
      why = "a NUL byte";
      return false;
    }
    if (c == '\\') {
      why = "a backslash";
      return false;
    }
    out += c;
  }
  // The last segment: "." and ".." are dropped like the others; a plain name stays without '/'.
  const std::string_view last(out.data() + segment, out.size() - segment);
  if (last == "." || last == "..") {
    if (!end_segment()) {
      why = "'..' climbs above the root";
      return false;
    }
  }
  return true;
}

OpenResult open_beneath(int root_fd, std::string_view relative, OpenedFile& out) {
  if (relative.empty() || relative.back() == '/') return {OpenStatus::kRefused, "a directory"};
  if (!g_have_openat2.load(std::memory_order_relaxed))
    return open_beneath_walk(root_fd, relative, out);
  // openat2 wants a C string; names are short, a local buffer avoids an allocation.
  char path[4096];
  if (relative.size() >= sizeof path) return {OpenStatus::kNotFound, "name too long"};
  relative.copy(path, relative.size());
  path[relative.size()] = '\0';
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(kOpenFlags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename raced the resolution (the kernel cannot vouch for it): try again, a little.
  long fd;
  int tries = 0;
  do {
    fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 8);
  if (fd < 0) {
    if (errno == ENOSYS) {
      g_have_openat2.store(false, std::memory_order_relaxed);
      return open_beneath_walk(root_fd, relative, out);
    }
    return from_errno(errno);
  }
  return finish(static_cast<int>(fd), out);
}

OpenResult open_beneath_walk(int root_fd, std::string_view relative, OpenedFile& out) {
  if (relative.empty() || relative.back() == '/') return {OpenStatus::kRefused, "a directory"};
  char name[256];
  base::UniqueFd dir;  // the directory reached so far (root_fd itself at first, not owned)
  int at = root_fd;
  size_t pos = 0;
  for (;;) {
    const size_t slash = relative.find('/', pos);
    const std::string_view comp = relative.substr(
        pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    // normalize_target's output has neither "." nor ".." nor empty components; refuse them
    // anyway rather than trust the caller with the root's safety.
    if (comp.empty() || comp == "." || comp == ".." || comp.size() >= sizeof name)
      return {OpenStatus::kRefused, "not a normalized path"};
    comp.copy(name, comp.size());
    name[comp.size()] = '\0';
    if (slash == std::string_view::npos) {
      const int fd = ::openat(at, name, kOpenFlags | O_NOFOLLOW);
      if (fd < 0) return component_error(at, name, errno);
      return finish(fd, out);
    }
    const int fd = ::openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return component_error(at, name, errno);
    dir.reset(fd);
    at = fd;
    pos = slash + 1;
  }
}

}  // namespace proxy::offload
