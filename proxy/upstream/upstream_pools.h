// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/runtime.h"

namespace proxy {

class UpstreamConnection;

// The event loop's idle keep-alive connections per backend server, and its round-robin choice of
// server per pool. One per thread: no locks.
class UpstreamPools {
 public:
  explicit UpstreamPools(const Runtime& runtime);
  ~UpstreamPools();
  UpstreamPools(const UpstreamPools&) = delete;
  UpstreamPools& operator=(const UpstreamPools&) = delete;

  // The next server of the pool in weighted round-robin order, skipping `avoid` when the pool has
  // another (a retry goes elsewhere).
  const UpstreamServer* pick(const UpstreamPoolInfo& pool, const UpstreamServer* avoid);

  // An idle connection to `server`, or nullptr.
  UpstreamConnection* take_idle(const UpstreamServer& server);
  enum class Kept : uint8_t { kNo, kWithinCap, kSurplus };
  // Keeps `c` for reuse. Up to `keepalive` per server are kept for the idle timeout; past that a
  // connection is kept as surplus, for a short grace only (as HAProxy's pool-purge-delay): under a
  // burst wider than the cap (640 HTTP/2 streams against keepalive 64) closing the surplus at once
  // meant a connect and close per request for the backend. keepalive 0: never kept.
  Kept put_idle(UpstreamConnection* c, int keepalive);
  // An idle connection was closed by its peer or timed out.
  void forget_idle(UpstreamConnection* c);

  // The event loop serves `runtime` from now on (same config, re-resolved addresses): the idle
  // connections, made to the old addresses, are closed. Only connections to the servers of the
  // current runtime are pooled; a request that began before keeps its own connections.
  void retarget(const Runtime& runtime);
  // The event loop serves `runtime`, a new config (a reload), from now on: idle connections to a
  // server whose address is still in it are kept for it, the others are closed; the round-robin
  // state starts again. Called while the old runtime is still alive.
  void reconfigure(const Runtime& runtime);

 private:
  struct ServerSlot {
    UpstreamConnection* idle = nullptr;  // intrusive list, most recent first
    int idle_count = 0;
  };
  struct PoolState {
    std::vector<int> current;  // smooth weighted round-robin state per server
  };

  void close_all_idle();
  bool is_current(const UpstreamServer& s) const {
    return s.index < current_.size() && current_[s.index] == &s;
  }

  std::vector<ServerSlot> servers_;
  std::vector<const UpstreamServer*> current_;  // by UpstreamServer::index
  std::vector<PoolState> pools_;
};

}  // namespace proxy
