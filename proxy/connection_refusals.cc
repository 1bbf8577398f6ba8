// SPDX-License-Identifier: MIT
#include "proxy/connection_refusals.h"

namespace proxy {

ConnectionRefusals::Note ConnectionRefusals::note(Limit limit, int64_t now_s) {
  Note n;
  n.total = counts_[static_cast<int>(limit)].fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t last = last_log_s_.load(std::memory_order_relaxed);
  // One loop wins the second; the others count what it did not log.
  if (now_s > last && last_log_s_.compare_exchange_strong(last, now_s, std::memory_order_relaxed)) {
    n.log = true;
    n.suppressed = unlogged_.exchange(0, std::memory_order_relaxed);
  } else {
    unlogged_.fetch_add(1, std::memory_order_relaxed);
  }
  return n;
}

}  // namespace proxy
