// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "conf/config.h"
#include "proxy/base/unique_fd.h"
#include "proxy/io/listen_socket.h"
#include "proxy/server_addresses.h"
#include "proxy/tls_contexts.h"
#include "tls/ticket_keys.h"
#include "tls/ticket_schedule.h"

namespace proxy {

// The worker process: serves `config` on the inherited listening sockets with one event loop per
// thread, until SIGTERM/SIGINT/SIGQUIT (graceful: stop accepting, finish in-flight exchanges up to
// timeouts.shutdown) or the main process goes away. Returns the process exit code.
//
// `addresses` are the servers' addresses as the main process resolved them; the worker
// re-resolves host names every config.resolve_interval (keeping the last good ones). `ready` gets
// "ready" once the worker serves, or the reason it cannot start (worker_ready.h). `channel`
// brings reload orders (reload_channel.h): the worker serves the new generation in place, its
// process, connections and caches kept, and answers. `generation` is the config's number.
//
// TLS: the main process loads the certificates (it can read the keys; the worker may run as an
// unprivileged user) and hands over the contexts. The worker keeps `keys` on `schedule`, so
// every worker, old and new, seals tickets with the same key at the same time.
struct WorkerTls {
  std::shared_ptr<const TlsContexts> contexts;
  std::shared_ptr<tls::TicketKeys> keys;
  std::optional<tls::TicketSchedule> schedule;
};

int run_worker(std::shared_ptr<const conf::Config> config, const ServerAddresses& addresses,
               const WorkerTls& tls, std::vector<io::ListenSocket> sockets, base::UniqueFd ready,
               base::UniqueFd channel, int generation);

}  // namespace proxy
