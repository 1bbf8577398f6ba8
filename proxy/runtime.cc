// SPDX-License-Identifier: MIT
#include "proxy/runtime.h"

namespace proxy {

base::Expected<std::shared_ptr<const Runtime>, std::string> Runtime::build(
    std::shared_ptr<const conf::Config> config, std::shared_ptr<const TlsContexts> tls) {
  auto rt = std::make_shared<Runtime>();
  rt->config = std::move(config);
  rt->tls = tls ? std::move(tls) : std::make_shared<const TlsContexts>();
  const conf::Config& c = *rt->config;
  // A listener with `tls:` but no context would otherwise serve in clear text.
  for (size_t i = 0; i < c.listeners.size(); ++i)
    if (c.listeners[i].tls && !rt->tls_for(i))
      return base::unexpected("listener " + c.listeners[i].name + ": TLS contexts not loaded");
  for (const auto& p : c.pools) {
    UpstreamPoolInfo info;
    info.config = &p;
    info.index = rt->pools.size();
    for (const auto& s : p.servers) {
      auto addr = io::resolve_address(s.address);
      if (!addr) return base::unexpected("pool " + p.name + ": " + s.address + ": " + addr.error());
      info.servers.push_back(UpstreamServer{std::move(*addr), s.weight, rt->server_count++});
    }
    rt->pools.push_back(std::move(info));
  }
  for (const auto& r : c.rules) {
    const UpstreamPoolInfo* found = nullptr;
    for (const auto& p : rt->pools)
      if (!r.pool.empty() && p.config->name == r.pool) found = &p;
    if (!r.pool.empty() && !found)
      return base::unexpected("rule " + r.name + " names unknown pool " + r.pool);
    rt->rule_pools.push_back(found);
  }
  auto rules = rules::RuleSet::compile(c);
  if (!rules) return base::unexpected(rules.error());
  rt->rules = std::move(*rules);
  return std::shared_ptr<const Runtime>(std::move(rt));
}

}  // namespace proxy
