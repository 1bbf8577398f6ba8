// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace proxy {

// The main process, as Varnish's manager: loads the config, owns the listening sockets, and
// keeps one worker process serving on them. HUP reloads: the checked config goes to the running
// worker, which serves it in place (reload_in_place.h) and keeps its process, connections and
// caches; what it cannot change there (user, number of event loops) starts a new worker that
// takes over once it reports that it serves, the old one finishing its requests. Either way a
// reload that fails leaves the running config serving. A worker that dies is restarted; one that
// cannot start at all (at start, or after a few restarts) stops gatehouse with exit code 1, so its
// ports are not left open with nobody serving. TERM/INT/QUIT stop gracefully. Returns the exit
// code.
int run_supervisor(const std::string& config_path);

}  // namespace proxy
