// SPDX-License-Identifier: MIT
// The internal locations (`internal:`): the targets of X-Accel-Redirect, never reachable by a
// client's own request.
#pragma once

#include <string>
#include <string_view>

#include "conf/config.h"

namespace proxy::offload {

// The internal location whose prefix |path| (a normalized target path: decoded once, no dot
// segments) starts with, or null. Prefixes never overlap (`gatehouse check`), so there is at
// most one.
const conf::InternalLocation* find_internal(const conf::Config& config, std::string_view path);

// Whether a client's request |path| (as the HTTP parser left it: unreserved escapes decoded, dot
// segments removed) names an internal location under any spelling a backend or a file system
// might take for it: every %XX decoded (either hex case, %2F included), backslashes taken for
// slashes, empty and "." segments dropped, ".." applied. Such a request gets 404 before any rule.
bool reaches_internal(const conf::Config& config, std::string_view path);

// The canonical form reaches_internal() compares, written to |out| (exposed for tests).
void canonical_client_path(std::string_view path, std::string& out);

}  // namespace proxy::offload
