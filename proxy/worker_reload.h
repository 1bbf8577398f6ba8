// SPDX-License-Identifier: MIT
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"
#include "proxy/event_loop.h"
#include "proxy/reload_channel.h"
#include "proxy/runtime.h"
#include "proxy/server_addresses.h"
#include "tls/ticket_keys.h"

namespace proxy {

// A listening socket as the worker holds it: shared with the event loops' ListenerSet, so a
// socket a reload drops closes once every loop has stopped accepting on it.
struct WorkerSocket {
  std::string name;
  std::string address;  // as configured: the key a reload names a kept socket by
  bool admin = false;
  std::shared_ptr<const base::UniqueFd> fd;
};

// What the worker serves: one config generation.
struct WorkerGeneration {
  std::shared_ptr<const Runtime> runtime;
  ServerAddresses addresses;
  std::vector<WorkerSocket> sockets;  // config order
  int number = 0;
};

// Why the main process must start a new worker for |next| rather than reload |running| in place,
// or empty: the `user:` (the worker dropped its privileges for it), the number of event loops,
// the size of the loops' request-head blocks (limits.max_request_header).
std::string needs_new_worker(const conf::Config& running, const conf::Config& next);

// The number of event loops a worker runs for |config| (`workers: auto` is one per core).
size_t thread_count(const conf::Config& config);

// Builds the generation |order| describes: its config parsed from the text the main process
// checked, its TLS contexts built from the files' contents it read (sealing tickets with |keys|,
// as the running ones do), its access log on the descriptor it opened, its sockets (those of
// |running| whose address is unchanged, and the new ones it sent). Nothing running is touched;
// on failure the reason, and the running generation keeps serving.
base::Expected<WorkerGeneration, std::string> build_generation(
    ReloadOrder&& order, const WorkerGeneration& running,
    const std::shared_ptr<tls::TicketKeys>& keys, std::time_t now);

// The sockets of |gen| as its event loops take them.
std::shared_ptr<const ListenerSet> listener_set(const WorkerGeneration& gen);

}  // namespace proxy
