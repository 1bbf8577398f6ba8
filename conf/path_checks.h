// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"

namespace conf {

// Checks what a loaded |config| needs from the filesystem before it may serve: the
// buffering.temp_path directory exists and the worker can write in it, the access log's
// directory exists and the worker can write the log there (/dev/stdout, /dev/stderr and "-" are
// always fine), the `user:` account exists, and each internal location's root and each
// sendfile_roots entry is a directory the worker can read. "The worker" is the `user:` account when
// one is set and we run as root (the worker switches to it), else this process. Each problem is an
// error at the setting's line of |file|. Run at `gatehouse check`, at start and at reload, next to
// the certificate checks; it reads the filesystem and may fork a short-lived child to test access
// as the user.
std::vector<ConfigError> check_paths(const Config& config, const std::string& file);

}  // namespace conf
