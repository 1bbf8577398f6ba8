// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"

namespace proxy::io {

// A bound, listening, non-blocking socket owned by the main process and inherited by its worker.
struct ListenSocket {
  std::string name;     // listener name from the config
  std::string address;  // as configured: the key that keeps a socket across reloads
  std::string bound;    // the address really bound (port 0 resolved)
  base::UniqueFd fd;
};

// Opens a listening socket for `address`.
base::Expected<ListenSocket, std::string> open_listen_socket(const std::string& name,
                                                             const std::string& address);

// Makes `sockets` match the config's listeners: keeps a socket whose address is unchanged, opens
// new ones, closes the rest. On error nothing is changed and the message says which listener.
base::Expected<void, std::string> sync_listen_sockets(const conf::Config& config,
                                                      std::vector<ListenSocket>& sockets);

}  // namespace proxy::io
