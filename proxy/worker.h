// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <vector>

#include "conf/config.h"
#include "proxy/io/listen_socket.h"

namespace proxy {

// The worker process: serves `config` on the inherited listening sockets with one event loop per
// thread, until SIGTERM/SIGINT (graceful: stop accepting, finish in-flight exchanges up to
// timeouts.shutdown) or the main process goes away. Returns the process exit code.
int run_worker(std::shared_ptr<const conf::Config> config,
               const std::vector<io::ListenSocket>& sockets);

}  // namespace proxy
