// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace proxy {

// The main process, as Varnish's manager: loads the config, owns the listening sockets, and
// keeps one worker process serving on them. HUP reloads (a new worker with the new config takes
// over; the old one finishes its requests), a worker that dies is restarted, TERM/INT stop
// gracefully. Returns the process exit code.
int run_supervisor(const std::string& config_path);

}  // namespace proxy
