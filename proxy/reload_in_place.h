// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <string>

#include "conf/config.h"
#include "proxy/io/listen_socket.h"
#include "proxy/server_addresses.h"

namespace proxy {

// A checked config generation for the running worker to serve in place (main side of a HUP).
struct InPlaceReload {
  int generation = 0;
  std::string path;  // the config file
  std::string text;  // its contents, as loaded and checked
  const conf::Config* config = nullptr;
  const ServerAddresses* addresses = nullptr;
  const io::ListenPlan* plan = nullptr;  // the new sockets are sent, the kept ones named
};

// Sends |r| to the worker over |channel| with what it cannot get for itself (the certificates'
// files, the new sockets, the access log opened here) and waits up to |bound| for its answer.
// Empty when it serves the new generation; else the reason it does not, and the running one
// keeps serving. |channel_lost|: the channel can no longer be trusted (a send failed, or no
// answer came in time and one may come later), so the next reload starts a new worker.
std::string reload_in_place(int channel, const InPlaceReload& r, std::chrono::milliseconds bound,
                            bool& channel_lost);

}  // namespace proxy
