// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "proxy/io/socket_address.h"
#include "proxy/offload/file_roots.h"
#include "proxy/server_addresses.h"
#include "proxy/tls_contexts.h"
#include "rules/rule_set.h"

namespace proxy {

class AccessLog;

struct UpstreamServer {
  io::SocketAddress address;
  int weight = 1;
  size_t index = 0;  // over all servers of all pools: the key of per-thread connection pools
};

struct UpstreamPoolInfo {
  const conf::Pool* config = nullptr;
  std::vector<UpstreamServer> servers;
  size_t index = 0;
};

// A config made ready to serve: addresses resolved, rules compiled. Immutable and shared by every
// thread of a worker; a request keeps the Runtime it started with. A worker that re-resolves its
// servers builds a new one with the same config and TLS contexts and hands it to its event loops.
struct Runtime {
  std::shared_ptr<const conf::Config> config;
  std::unique_ptr<rules::RuleSet> rules;
  std::vector<UpstreamPoolInfo> pools;              // config->pools order
  std::vector<const UpstreamPoolInfo*> rule_pools;  // config->rules order; null: no pool
  // config->internal order; null for a location with a root.
  std::vector<const UpstreamPoolInfo*> internal_pools;
  size_t server_count = 0;
  // TLS contexts by listener index (config->listeners order); never null itself.
  std::shared_ptr<const TlsContexts> tls;
  // The access log of config->access_log; null: none. An exchange logs to its runtime's, so a
  // reload that changes the log sends the requests in flight to the old one.
  std::shared_ptr<AccessLog> access_log;
  // The directories files are served from (static roots; internal roots, sendfile_roots), open
  // for as long as this Runtime lives: a reload opens them again.
  offload::FileRoots file_roots;

  // `addresses` are the servers' addresses, resolved by the main process (resolve_servers);
  // null: resolved here (tests and tools only: a worker never resolves at start).
  static base::Expected<std::shared_ptr<const Runtime>, std::string> build(
      std::shared_ptr<const conf::Config> config, std::shared_ptr<const TlsContexts> tls = nullptr,
      const ServerAddresses* addresses = nullptr, std::shared_ptr<AccessLog> access_log = nullptr);

  // The TLS context of config->listeners[index]; null for a plain listener.
  const tls::ServerContext* tls_for(size_t index) const {
    return index < tls->by_listener.size() ? tls->by_listener[index].get() : nullptr;
  }

  const UpstreamPoolInfo* pool_for(const conf::Rule* rule) const {
    return rule ? rule_pools[static_cast<size_t>(rule - config->rules.data())] : nullptr;
  }
  // |loc| is one of config->internal.
  const UpstreamPoolInfo* pool_for(const conf::InternalLocation& loc) const {
    return internal_pools[static_cast<size_t>(&loc - config->internal.data())];
  }
};

}  // namespace proxy
