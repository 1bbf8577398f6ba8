// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>

namespace proxy {

// Connections refused at accept for a limit (limits.max_connections, max_connections_per_client):
// counted for the metrics, and logged at most once a second per worker, each line telling how
// many were refused since the previous one. Shared by the worker's event loops; lock-free.
class ConnectionRefusals {
 public:
  enum class Limit : uint8_t { kMaxConnections = 0, kPerClient = 1 };

  // What a refusal at |now_s| (seconds) should log: nothing (log false), or a line that also
  // accounts for the |suppressed| refusals not logged since the last line.
  struct Note {
    bool log = false;
    uint64_t suppressed = 0;
    uint64_t total = 0;  // refusals for this limit so far, this one included
  };
  Note note(Limit limit, int64_t now_s);

  uint64_t count(Limit limit) const {
    return counts_[static_cast<int>(limit)].load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> counts_[2] = {0, 0};
  std::atomic<int64_t> last_log_s_{std::numeric_limits<int64_t>::min()};
  std::atomic<uint64_t> unlogged_{0};
};

}  // namespace proxy
