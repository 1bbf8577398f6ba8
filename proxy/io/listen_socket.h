// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
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
  // For a unix socket: the file bound, and its identity, so that only our own file is removed.
  std::string unix_path;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Opens a listening socket for `address`. A unix socket path that exists is replaced only when it
// is a stale socket (a connect to it is refused); a live one fails with "address in use" and any
// other file is an error, never removed.
base::Expected<ListenSocket, std::string> open_listen_socket(const std::string& name,
                                                             const std::string& address);

// The first half of a reload: the sockets `config` needs that `sockets` lacks, opened, and the
// listeners in config order. Nothing running is touched; dropping the plan closes what it opened
// (remove_socket_files removes their files).
struct ListenPlan {
  std::vector<ListenSocket> opened;
  std::vector<std::pair<std::string, std::string>> listeners;  // name, address
};
base::Expected<ListenPlan, std::string> prepare_listen_sockets(
    const conf::Config& config, const std::vector<ListenSocket>& sockets);

// The second half: `sockets` becomes the plan's listeners (unchanged addresses keep their socket).
// Returns the sockets no longer used, still open, for the caller to close (and remove the files
// of).
std::vector<ListenSocket> commit_listen_sockets(ListenPlan&& plan,
                                                std::vector<ListenSocket>& sockets);

// Makes `sockets` match the config's listeners: keeps a socket whose address is unchanged, opens
// new ones, closes the rest. On error nothing is changed and the message says which listener.
base::Expected<void, std::string> sync_listen_sockets(const conf::Config& config,
                                                      std::vector<ListenSocket>& sockets);

// Removes the unix socket files of `sockets` that are still the ones they bound (same inode).
void remove_socket_files(const std::vector<ListenSocket>& sockets);

}  // namespace proxy::io
