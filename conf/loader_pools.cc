// SPDX-License-Identifier: MIT
#include <set>

#include "conf/address.h"
#include "conf/quote.h"
#include "conf/sections.h"

namespace conf::sections {
namespace {

constexpr int64_t kMaxWeight = 1000;
constexpr int64_t kIntMax = 1000000000;

void read_balance(Reader& r, const Value& v, Pool& pool) {
  if (v.node.IsMap()) {
    MapView m(r, v, {"hash"});
    MapView hash(r, m.require("hash"), {"header"});
    if (hash.ok() && m.get("hash")) {
      store(r.header_name(hash.require("header")), pool.hash_header);
      pool.balance = Balance::kHeaderHash;
    }
    return;
  }
  auto s = r.choice(v, {"round_robin", "least_conn", "ip_hash", "random_two"});
  if (!s) return;
  if (*s == "round_robin") pool.balance = Balance::kRoundRobin;
  if (*s == "least_conn") pool.balance = Balance::kLeastConn;
  if (*s == "ip_hash") pool.balance = Balance::kIpHash;
  if (*s == "random_two") pool.balance = Balance::kRandomTwo;
}

void read_servers(Reader& r, const Value& v, Pool& pool) {
  std::set<std::string> seen;
  for (const Value& item : r.items(v, false)) {
    Server server;
    Value address = item;
    if (item.node.IsMap()) {
      MapView m(r, item, {"address", "weight"});
      address = m.require("address");
      store(r.integer(m.get("weight"), 1, kMaxWeight), server.weight);
    }
    auto s = r.string(address);
    if (!s) continue;
    *s = r.resolve_address(*s);
    if (auto a = parse_address(*s, AddressUse::kConnect); !a) {
      r.error(address, "expected " + a.error());
      continue;
    }
    if (!seen.insert(*s).second)
      r.warning(address, quoted(*s) + " is listed twice: use weight instead");
    server.address = *s;
    server.line = address.mark.line + 1;
    server.column = address.mark.column + 1;
    pool.servers.push_back(std::move(server));
  }
  if (v && pool.servers.empty() && (v.node.IsNull() || v.node.IsSequence()))
    r.error(v, "at least one server is required");
}

HealthCheck read_health_check(Reader& r, const Value& v) {
  HealthCheck hc;
  MapView m(r, v, {"path", "interval", "timeout", "rise", "fall"});
  Value path = m.require("path");
  if (auto s = r.string(path)) {
    if (!s->starts_with("/"))
      r.error(path, "expected a path starting with \"/\", got " + quoted(*s));
    hc.path = *s;
  }
  store(r.duration(m.get("interval")), hc.interval);
  store(r.duration(m.get("timeout")), hc.timeout);
  store(r.integer(m.get("rise"), 1, 100), hc.rise);
  store(r.integer(m.get("fall"), 1, 100), hc.fall);
  if (hc.timeout > hc.interval && m.get("timeout"))
    r.warning(m.get("timeout"), "longer than the interval: checks will overlap");
  return hc;
}

Pool read_pool(Reader& r, const Value& key, const Value& v) {
  Pool pool;
  pool.name = key.node.Scalar();
  pool.line = key.mark.line + 1;
  MapView m(
      r, v,
      {"balance", "servers", "health_check", "max_connections", "queue", "keepalive", "retries"});
  if (!m.ok()) return pool;
  if (Value b = m.get("balance")) read_balance(r, b, pool);
  read_servers(r, m.require("servers"), pool);
  if (Value hc = m.get("health_check")) pool.health_check = read_health_check(r, hc);
  store(r.integer(m.get("max_connections"), 0, kIntMax), pool.max_connections);
  if (Value q = m.get("queue")) {
    MapView queue(r, q, {"size", "timeout"});
    store(r.integer(queue.get("size"), 0, kIntMax), pool.queue_size);
    store(r.duration(queue.get("timeout")), pool.queue_timeout);
  }
  store(r.integer(m.get("keepalive"), 0, kIntMax), pool.keepalive);
  store(r.integer(m.get("retries"), 0, 10), pool.retries);
  return pool;
}

}  // namespace

void read_pools(Reader& r, const Value& v, Config& config) {
  for (const auto& [key, val] : r.entries(v)) {
    if (key.node.Scalar().empty()) {
      r.error(key.mark, "a pool name must not be empty");
      continue;
    }
    config.pools.push_back(read_pool(r, key, val));
  }
}

void read_internal(Reader& r, const Value& v, Config& config) {
  std::vector<std::pair<std::string, int>> seen;  // prefix, line
  for (const Value& item : r.items(v, false)) {
    MapView m(r, item, {"prefix", "root", "pool"});
    if (!m.ok()) continue;
    InternalLocation loc;
    Value prefix = m.require("prefix");
    if (auto s = r.string(prefix)) {
      if (!s->starts_with("/") || !s->ends_with("/")) {
        r.error(prefix, "expected a prefix that starts and ends with \"/\", got " + quoted(*s));
      } else {
        for (const auto& [other, line] : seen)
          if (s->starts_with(other) || other.starts_with(*s))
            r.error(prefix, quoted(*s) + " overlaps " + quoted(other) + " (line " +
                                std::to_string(line) + "): one is a prefix of the other");
        seen.emplace_back(*s, prefix.mark.line + 1);
      }
      loc.prefix = *s;
    }
    Value root = m.get("root"), pool = m.get("pool");
    if (root && pool)
      r.error(item, "has both root and pool: an internal location serves from one of them");
    else if (!root && !pool)
      r.error(item, "needs a root (a directory) or a pool to serve from");
    if (root) loc.root_at = position_of(root);
    store(r.path(root), loc.root);
    if (auto s = r.string(pool)) {
      if (!config.find_pool(*s)) r.error(pool, "no pool named " + quoted(*s));
      loc.pool = *s;
    }
    config.internal.push_back(std::move(loc));
  }
}

void read_sendfile_roots(Reader& r, const Value& v, Config& config) {
  for (const Value& item : r.items(v, true))
    if (auto s = r.path(item)) {
      config.sendfile_roots.push_back(*s);
      config.sendfile_roots_at.push_back(position_of(item));
    }
}

}  // namespace conf::sections
