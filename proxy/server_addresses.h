// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "proxy/io/socket_address.h"

namespace proxy {

// Resolves one configured address ("host:port", "[v6]:port", "unix:/path"); io::resolve_address in
// production, a fake in tests.
using Resolver = std::function<base::Expected<io::SocketAddress, std::string>(std::string_view)>;

// The address of every server of every pool: by_pool[i][j] is config.pools[i].servers[j]. Resolved
// by the main process (at check, start and reload) and inherited by the worker, which never
// resolves at start: a name that does not resolve refuses the config instead of a worker.
struct ServerAddresses {
  std::vector<std::vector<io::SocketAddress>> by_pool;
};

struct ServerResolution {
  std::optional<ServerAddresses> addresses;  // null when a server does not resolve
  std::vector<conf::ConfigError> problems;   // one per such server, at its line in the file
};

// Resolves every server of `config`, as nginx's "host not found in upstream".
ServerResolution resolve_servers(const conf::Config& config, const Resolver& resolve);

// True when some server is a host name (not an IP literal or a unix socket): only then is there
// anything to re-resolve.
bool has_host_names(const conf::Config& config);

// The outcome of a scheduled re-resolution.
struct ServerRefresh {
  ServerAddresses addresses;
  bool changed = false;               // some address differs from `last`
  std::vector<std::string> warnings;  // lookups that failed; their last good address is kept
  std::vector<std::string> changes;   // "pool P: NAME now resolves to A (was B)"
};

// Re-resolves the host names of `config`. A lookup that fails keeps its address from `last`
// (the last good one), so a DNS blip never takes a server out.
ServerRefresh refresh_servers(const conf::Config& config, const ServerAddresses& last,
                              const Resolver& resolve);

bool same_address(const io::SocketAddress& a, const io::SocketAddress& b);

}  // namespace proxy
