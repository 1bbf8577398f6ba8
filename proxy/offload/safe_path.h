// SPDX-License-Identifier: MIT
// Turning a request path or an X-Accel target into a file under a root, so that no byte outside
// the root can ever be served (issue 11, point 8): the target is decoded once and normalized
// (normalize_target), then opened beneath the root's directory fd (open_beneath) without ever
// leaving it, by `..` or by a symlink, and only a regular file is accepted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/base/unique_fd.h"

namespace proxy::offload {

// Decodes the percent-encoding of |raw| (a path, no query) once and normalizes it into |out|,
// relative to the root: no leading '/', empty and "." segments dropped ("//", "/./"), ".."
// taking back the previous segment. Returns false, with |why| set for the log line, for what
// must never name a file: an invalid escape, NUL (raw or %00), a backslash (raw or %5C), an
// encoded '/' (%2F: it would join segments the client presented as one), and a ".." that would
// climb above the root. A trailing '/' is kept in |out| (a directory: open_beneath refuses it).
// |out| keeps its allocation from call to call.
bool normalize_target(std::string_view raw, std::string& out, const char*& why);

// A regular file opened for reading, with what its validators come from.
struct OpenedFile {
  base::UniqueFd fd;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  long mtime_nsec = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

enum class OpenStatus : uint8_t {
  kOk,
  kNotFound,   // 404: no such file (or a component is not a directory)
  kForbidden,  // 403: it exists but cannot be read (EACCES, EPERM)
  kRefused,    // 404 and a log line: outside the root (symlink out, magic link), a directory, a
               // device, a FIFO, a socket: never served
};

struct OpenResult {
  OpenStatus status = OpenStatus::kNotFound;
  const char* why = "";  // for the log line; static text
};

// Opens |relative| (normalize_target's output) beneath the directory |root_fd| with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), falling back to open_beneath_walk when the
// kernel has no openat2 (ENOSYS), then fstat: only a regular file is kOk, and |out| then holds it.
// A FIFO is opened non-blocking, so it is refused without waiting for a writer.
OpenResult open_beneath(int root_fd, std::string_view relative, OpenedFile& out);
// The fallback: one openat(O_NOFOLLOW) per component from |root_fd| down, refusing any symlink
// (stricter than openat2, which follows symlinks that stay beneath the root). Exposed for tests.
OpenResult open_beneath_walk(int root_fd, std::string_view relative, OpenedFile& out);

}  // namespace proxy::offload
