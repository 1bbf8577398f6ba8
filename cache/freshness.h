// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace cache {

// Wall-clock time in whole seconds since the epoch: what Date, Expires and Age speak in.
using UnixTime = int64_t;

// What RFC 9111 4.2 needs to judge a stored response, fixed when it is stored (and again when a
// 304 updates it). Policy functions compute it; storage keeps it beside the object.
struct Freshness {
  UnixTime response_time = 0;         // when the response (head) was received
  int64_t corrected_initial_age = 0;  // RFC 9111 4.2.3
  int64_t lifetime = 0;               // freshness lifetime in seconds (0 or less: stale at once)
  uint32_t stale_while_revalidate =
      0;                         // seconds it may be served stale while refreshed (5.2.2.x,
                                 // RFC 5861), the operator default when the response names none
  uint32_t stale_if_error = 0;   // seconds it may be served stale when the backend fails
  bool no_cache = false;         // revalidate on every use (no-cache; 5.2.2.4)
  bool must_revalidate = false;  // never served stale (must-revalidate, proxy-revalidate, s-maxage)
  bool heuristic = false;        // the lifetime is a heuristic one (4.2.2): Age > 1 day warns
};

// RFC 9111 4.2.3: the current age of a stored response at |now|.
inline int64_t current_age(const Freshness& f, UnixTime now) {
  const int64_t resident = now > f.response_time ? now - f.response_time : 0;
  return f.corrected_initial_age + resident;
}

}  // namespace cache
