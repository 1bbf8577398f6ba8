// SPDX-License-Identifier: MIT
// Removing a large file costs the kernel time in proportion to its size (a 1 GiB file just
// written: about 250 ms to drop its pages and free its blocks), which an event loop must not
// spend. remove_file() unlinks a small file at once, and hands a large one to a thread of its own.
#pragma once

#include <cstdint>
#include <string_view>

namespace proxy::offload {

// Unlinks |path|, a file of |size| bytes: inline below a few MiB, else on the reaper thread
// (started on first use; what it has queued is removed before the process exits normally).
void remove_file(std::string_view path, uint64_t size);

}  // namespace proxy::offload
