// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace proxy {

// The main process, as Varnish's manager: loads the config, owns the listening sockets, and
// keeps one worker process serving on them. HUP reloads: a new worker with the new config takes
// over once it reports that it serves, and the old one finishes its requests; a new worker that
// cannot start leaves the old one serving. A worker that dies is restarted; one that cannot start
// at all (at start, or after a few restarts) stops gatehouse with exit code 1, so its ports are
// not left open with nobody serving. TERM/INT/QUIT stop gracefully. Returns the exit code.
int run_supervisor(const std::string& config_path);

}  // namespace proxy
