// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"
#include "proxy/server_addresses.h"
#include "tls/certificate.h"

namespace proxy {

// The channel between the main process and its worker: a socketpair made when the worker is
// forked. At a HUP the main process, having loaded and checked the new config, sends it to the
// running worker as a ReloadOrder; the worker answers "ready" once its event loops were handed
// the new runtime, or the reason it cannot serve it (it then keeps the running one).
struct ReloadChannel {
  base::UniqueFd main;    // kept by the main process
  base::UniqueFd worker;  // kept by the worker
  static bool open(ReloadChannel& out);
};

// The worker's answer to an order it serves; any other answer is the reason it cannot.
inline constexpr std::string_view kReloadReady = "ready";

// A new config generation, with what the worker cannot get for itself once it has dropped its
// privileges: the key files' contents, the addresses the main process resolved, the sockets it
// bound (privileged ports) and the access log it opened.
struct ReloadOrder {
  int generation = 0;
  std::string config_name;  // the config file's path: for messages and relative paths
  std::string config_text;  // the YAML the main process loaded and checked
  ServerAddresses addresses;
  tls::FileContents tls_files;  // by path as configured: certificates, keys, OCSP responses
  struct Listener {
    std::string name;
    std::string address;  // as configured: the key of a socket the worker already has
    int fd = -1;          // index in fds of a new socket; -1: the worker's socket for address
  };
  std::vector<Listener> listeners;  // every listener of the new config, in config order
  int access_log_fd = -1;           // index in fds; -1: the config has no access log
  std::vector<base::UniqueFd> fds;

  ReloadOrder() = default;
  ReloadOrder(ReloadOrder&&) = default;
  ReloadOrder& operator=(ReloadOrder&&) = default;
  ~ReloadOrder();  // overwrites the key files' contents
};

// One message on the channel: bytes, and descriptors passed with SCM_RIGHTS.
struct ChannelMessage {
  std::string bytes;
  std::vector<base::UniqueFd> fds;
};

// At most this many descriptors go with one message (the kernel's SCM_MAX_FD).
constexpr size_t kMaxChannelFds = 253;

// The bytes of |order| (its fds go beside them, in order); decode() is the inverse. A message
// that does not decode is an error, never a partial order.
std::string encode(const ReloadOrder& order);
base::Expected<ReloadOrder, std::string> decode(ChannelMessage&& message);

// Sends one message (blocking). False with errno set; EMSGSIZE past kMaxChannelFds.
bool send_message(int sock, std::string_view bytes, const std::vector<int>& fds = {});
// Receives one message, waiting up to |timeout_ms| (-1: no bound) for it to start and for each
// further piece. The error says why: "closed" when the peer is gone, a timeout, a bad frame.
base::Expected<ChannelMessage, std::string> receive_message(int sock, int timeout_ms);

}  // namespace proxy
