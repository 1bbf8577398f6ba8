// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "proxy/base/unique_fd.h"

namespace proxy {

// The start handshake between the main process and a new worker, over a pipe: the worker writes
// "ready\n" once it serves (runtime built, access log open, privileges dropped, event loops up),
// or the reason it cannot start; then it closes its end. A reload is committed, and a start
// reported, only on "ready".
struct ReadyPipe {
  base::UniqueFd read;   // kept by the main process
  base::UniqueFd write;  // kept by the worker
  static bool open(ReadyPipe& out);
};

// Worker side: report and close `fd`.
void report_ready(base::UniqueFd& fd);
void report_cannot_start(base::UniqueFd& fd, std::string_view reason);

// Main side: waits up to `bound` for worker `pid` to report. On failure the worker is killed and
// reaped (so the caller never sees it again) and the reason is returned; empty means ready.
std::string wait_ready(base::UniqueFd& fd, pid_t pid, std::chrono::milliseconds bound);

}  // namespace proxy
