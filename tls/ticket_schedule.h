// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>

#include "tls/ticket_keys.h"

namespace tls {

// How long a ticket key seals new tickets; it opens them for one period more.
inline constexpr std::time_t kTicketPeriodSeconds = 3600;

// Session ticket keys as a pure function of a secret and the clock: the key of period n is
// derived from the secret with HMAC-SHA256, and n = now / period. Every process holding the
// secret (each worker is forked from the main process, before and after reloads) seals and opens
// tickets with the same keys at the same time, and rotates them without talking to the others.
// Nothing derived here is ever written out: the secret lives only in memory.
class TicketSchedule {
 public:
  using Secret = std::array<unsigned char, 32>;

  // A fresh random secret; nullopt if the RNG fails.
  static std::optional<TicketSchedule> random(std::time_t period_seconds);
  TicketSchedule(const Secret& secret, std::time_t period_seconds);

  std::time_t period() const { return period_; }
  int64_t epoch(std::time_t now) const { return static_cast<int64_t>(now / period_); }
  // The key of period |epoch|; nullopt if HMAC fails.
  std::optional<TicketKey> key(int64_t epoch) const;

  // Makes |keys| hold the keys of now's period (current) and the one before (previous), if they
  // are not already. Cheap when nothing changed; returns false only if a derivation failed.
  bool apply(TicketKeys& keys, std::time_t now);

 private:
  Secret secret_;
  std::time_t period_;
  int64_t applied_ = INT64_MIN;  // the epoch |keys| last got
};

}  // namespace tls
