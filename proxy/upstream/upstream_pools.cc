// SPDX-License-Identifier: MIT
#include "proxy/upstream/upstream_pools.h"

#include "proxy/upstream/upstream_connection.h"

namespace proxy {

UpstreamPools::UpstreamPools(const Runtime& runtime)
    : servers_(runtime.server_count), pools_(runtime.pools.size()) {
  for (size_t i = 0; i < runtime.pools.size(); ++i)
    pools_[i].current.assign(runtime.pools[i].servers.size(), 0);
  retarget(runtime);
}

UpstreamPools::~UpstreamPools() {
  close_all_idle();
}

void UpstreamPools::close_all_idle() {
  for (auto& s : servers_) {
    while (s.idle) {
      UpstreamConnection* c = s.idle;
      s.idle = c->pool_next;
      c->close_idle();
    }
    s.idle_count = 0;
  }
}

void UpstreamPools::retarget(const Runtime& runtime) {
  close_all_idle();
  current_.assign(runtime.server_count, nullptr);
  for (const auto& pool : runtime.pools)
    for (const auto& server : pool.servers)
      if (server.index < current_.size()) current_[server.index] = &server;
}

void UpstreamPools::reconfigure(const Runtime& runtime) {
  std::vector<ServerSlot> old = std::move(servers_);
  const std::vector<const UpstreamServer*> was = std::move(current_);
  servers_.assign(runtime.server_count, ServerSlot{});
  pools_.assign(runtime.pools.size(), PoolState{});
  for (size_t i = 0; i < runtime.pools.size(); ++i)
    pools_[i].current.assign(runtime.pools[i].servers.size(), 0);
  current_.assign(runtime.server_count, nullptr);
  for (const auto& pool : runtime.pools)
    for (const auto& server : pool.servers)
      if (server.index < current_.size()) current_[server.index] = &server;
  for (size_t i = 0; i < old.size(); ++i) {
    const UpstreamServer* now = nullptr;
    if (i < was.size() && was[i])
      for (const UpstreamServer* s : current_)
        if (s && same_address(s->address, was[i]->address)) {
          now = s;
          break;
        }
    while (UpstreamConnection* c = old[i].idle) {
      old[i].idle = c->pool_next;
      c->pool_next = c->pool_prev = nullptr;
      if (!now) {
        c->close_idle();
        continue;
      }
      c->rebind(*now);
      auto& slot = servers_[now->index];
      c->pool_next = slot.idle;
      if (slot.idle) slot.idle->pool_prev = c;
      slot.idle = c;
      ++slot.idle_count;
    }
  }
}

const UpstreamServer* UpstreamPools::pick(const UpstreamPoolInfo& pool,
                                          const UpstreamServer* avoid) {
  const size_t n = pool.servers.size();
  if (n == 0) return nullptr;
  if (n == 1) return &pool.servers[0];
  if (pool.index >= pools_.size() || pools_[pool.index].current.size() != n) {
    // A pool of the runtime before a reload (a request in flight retrying): its round-robin
    // state is gone; any other server will do.
    for (const auto& s : pool.servers)
      if (&s != avoid) return &s;
    return &pool.servers[0];
  }
  // Smooth weighted round robin (as nginx): every server gains its weight, the best is chosen and
  // pays the total, so weights spread evenly instead of in bursts.
  auto& cur = pools_[pool.index].current;
  int total = 0;
  size_t best = n;
  for (size_t i = 0; i < n; ++i) {
    cur[i] += pool.servers[i].weight;
    total += pool.servers[i].weight;
    if (&pool.servers[i] == avoid) continue;
    if (best == n || cur[i] > cur[best]) best = i;
  }
  cur[best] -= total;
  return &pool.servers[best];
}

UpstreamConnection* UpstreamPools::take_idle(const UpstreamServer& server) {
  if (!is_current(server)) return nullptr;
  auto& slot = servers_[server.index];
  while (UpstreamConnection* c = slot.idle) {
    slot.idle = c->pool_next;
    if (slot.idle) slot.idle->pool_prev = nullptr;
    c->pool_next = c->pool_prev = nullptr;
    --slot.idle_count;
    if (c->idle_check_alive()) return c;
  }
  return nullptr;
}

UpstreamPools::Kept UpstreamPools::put_idle(UpstreamConnection* c, int keepalive) {
  if (keepalive <= 0 || !is_current(c->server())) return Kept::kNo;
  auto& slot = servers_[c->server().index];
  const Kept kept = slot.idle_count < keepalive ? Kept::kWithinCap : Kept::kSurplus;
  c->pool_prev = nullptr;
  c->pool_next = slot.idle;
  if (slot.idle) slot.idle->pool_prev = c;
  slot.idle = c;
  ++slot.idle_count;
  return kept;
}

void UpstreamPools::forget_idle(UpstreamConnection* c) {
  if (!is_current(c->server())) return;  // pooled connections are all to current servers
  auto& slot = servers_[c->server().index];
  if (c->pool_prev)
    c->pool_prev->pool_next = c->pool_next;
  else if (slot.idle == c)
    slot.idle = c->pool_next;
  else
    return;  // not in the list
  if (c->pool_next) c->pool_next->pool_prev = c->pool_prev;
  c->pool_next = c->pool_prev = nullptr;
  --slot.idle_count;
}

}  // namespace proxy
