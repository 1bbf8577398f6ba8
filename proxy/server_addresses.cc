// SPDX-License-Identifier: MIT
#include "proxy/server_addresses.h"

#include <cstring>

#include "conf/address.h"

namespace proxy {

ServerResolution resolve_servers(const conf::Config& config, const Resolver& resolve) {
  ServerResolution out;
  ServerAddresses addresses;
  for (const auto& pool : config.pools) {
    auto& row = addresses.by_pool.emplace_back();
    for (const auto& server : pool.servers) {
      auto a = resolve(server.address);
      if (!a) {
        out.problems.push_back({config.source, server.line > 0 ? server.line : pool.line,
                                server.column,
                                "pools." + pool.name + ": host not found in upstream \"" +
                                    server.address + "\": " + a.error(),
                                false});
        continue;
      }
      row.push_back(std::move(*a));
    }
  }
  if (out.problems.empty()) out.addresses = std::move(addresses);
  return out;
}

bool has_host_names(const conf::Config& config) {
  for (const auto& pool : config.pools)
    for (const auto& server : pool.servers) {
      auto a = conf::parse_address(server.address, conf::AddressUse::kConnect);
      if (a && a->kind == conf::Address::Kind::kInet && !a->numeric) return true;
    }
  return false;
}

bool same_address(const io::SocketAddress& a, const io::SocketAddress& b) {
  return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

ServerRefresh refresh_servers(const conf::Config& config, const ServerAddresses& last,
                              const Resolver& resolve) {
  ServerRefresh out;
  out.addresses = last;
  for (size_t i = 0; i < config.pools.size() && i < last.by_pool.size(); ++i) {
    const auto& pool = config.pools[i];
    for (size_t j = 0; j < pool.servers.size() && j < last.by_pool[i].size(); ++j) {
      const auto& server = pool.servers[j];
      auto parsed = conf::parse_address(server.address, conf::AddressUse::kConnect);
      if (!parsed || parsed->kind != conf::Address::Kind::kInet || parsed->numeric) continue;
      auto a = resolve(server.address);
      if (!a) {
        out.warnings.push_back(
            "pool " + pool.name + ": cannot re-resolve " + server.address + " (" + a.error() +
            "); keeping " +
            io::format_address(last.by_pool[i][j].get(), last.by_pool[i][j].length));
        continue;
      }
      if (!same_address(*a, last.by_pool[i][j])) {
        out.changed = true;
        out.changes.push_back(
            "pool " + pool.name + ": " + server.address + " now resolves to " +
            io::format_address(a->get(), a->length) + " (was " +
            io::format_address(last.by_pool[i][j].get(), last.by_pool[i][j].length) +
            "); new requests go there");
        out.addresses.by_pool[i][j] = std::move(*a);
      }
    }
  }
  return out;
}

}  // namespace proxy
