// SPDX-License-Identifier: MIT
#include "proxy/runtime.h"

namespace proxy {

base::Expected<std::shared_ptr<const Runtime>, std::string> Runtime::build(
    std::shared_ptr<const conf::Config> config, std::shared_ptr<const TlsContexts> tls,
    const ServerAddresses* addresses, std::shared_ptr<AccessLog> access_log) {
  auto rt = std::make_shared<Runtime>();
  rt->access_log = std::move(access_log);
  rt->config = std::move(config);
  rt->tls = tls ? std::move(tls) : std::make_shared<const TlsContexts>();
  const conf::Config& c = *rt->config;
  // A listener with `tls:` but no context would otherwise serve in clear text.
  for (size_t i = 0; i < c.listeners.size(); ++i)
    if (c.listeners[i].tls && !rt->tls_for(i))
      return base::unexpected("listener " + c.listeners[i].name + ": TLS contexts not loaded");
  ServerResolution resolved;
  if (!addresses) {
    resolved = resolve_servers(c, io::resolve_address);
    if (!resolved.addresses) return base::unexpected(resolved.problems.front().message);
    addresses = &*resolved.addresses;
  }
  if (addresses->by_pool.size() != c.pools.size())
    return base::unexpected(std::string("server addresses do not match the config"));
  for (size_t i = 0; i < c.pools.size(); ++i) {
    const auto& p = c.pools[i];
    UpstreamPoolInfo info;
    info.config = &p;
    info.index = rt->pools.size();
    if (addresses->by_pool[i].size() != p.servers.size())
      return base::unexpected("pool " + p.name + ": server addresses do not match the config");
    for (size_t j = 0; j < p.servers.size(); ++j)
      info.servers.push_back(
          UpstreamServer{addresses->by_pool[i][j], p.servers[j].weight, rt->server_count++});
    rt->pools.push_back(std::move(info));
  }
  auto named = [&rt](const std::string& name) -> const UpstreamPoolInfo* {
    for (const auto& p : rt->pools)
      if (p.config->name == name) return &p;
    return nullptr;
  };
  for (const auto& r : c.rules) {
    const UpstreamPoolInfo* found = r.pool.empty() ? nullptr : named(r.pool);
    if (!r.pool.empty() && !found)
      return base::unexpected("rule " + r.name + " names unknown pool " + r.pool);
    rt->rule_pools.push_back(found);
  }
  for (const auto& loc : c.internal) {
    const UpstreamPoolInfo* found = loc.pool.empty() ? nullptr : named(loc.pool);
    if (!loc.pool.empty() && !found)
      return base::unexpected("internal " + loc.prefix + " names unknown pool " + loc.pool);
    rt->internal_pools.push_back(found);
  }
  for (const auto& r : c.rules)
    if (!r.static_root.empty())
      if (auto added = rt->file_roots.add(r.static_root); !added)
        return base::unexpected("rule " + r.name + ": static root: " + added.error());
  for (const auto& loc : c.internal)
    if (!loc.root.empty())
      if (auto added = rt->file_roots.add(loc.root); !added)
        return base::unexpected("internal " + loc.prefix + ": root: " + added.error());
  for (const auto& dir : c.sendfile_roots)
    if (auto added = rt->file_roots.add(dir); !added)
      return base::unexpected("sendfile_roots: " + added.error());
  auto rules = rules::RuleSet::compile(c);
  if (!rules) return base::unexpected(rules.error());
  rt->rules = std::move(*rules);
  return std::shared_ptr<const Runtime>(std::move(rt));
}

}  // namespace proxy
