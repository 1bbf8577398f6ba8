// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

#include "proxy/base/clock.h"

namespace proxy {

// A token bucket counting what one HTTP/2 client makes us do without asking for a response:
// control frames (SETTINGS, PING, WINDOW_UPDATE, PRIORITY, empty DATA), or streams it opened and
// cancelled (rapid reset, CVE-2023-44487). It starts full at |burst|, refills at |per_second| and
// by credit() for work that served the client (frames we sent), and never holds more than |burst|.
// A client that empties it is flooding: the connection answers with GOAWAY(ENHANCE_YOUR_CALM).
// Time is an argument so the policy is tested without sleeping.
class FloodBudget {
 public:
  FloodBudget(uint32_t burst, uint32_t per_second)
      : burst_milli_(uint64_t{burst} * 1000), rate_(per_second), tokens_milli_(burst_milli_) {}

  // Spends |n| tokens at |now|; false once the budget is exhausted.
  bool spend(base::TimePoint now, uint32_t n = 1) {
    refill(now);
    const uint64_t cost = uint64_t{n} * 1000;
    if (tokens_milli_ < cost) return false;
    tokens_milli_ -= cost;
    return true;
  }

  // Earned by useful work: a client that reads what we send may send control frames in proportion.
  void credit(uint32_t n) {
    tokens_milli_ += uint64_t{n} * 1000;
    if (tokens_milli_ > burst_milli_) tokens_milli_ = burst_milli_;
  }

  uint32_t tokens() const { return static_cast<uint32_t>(tokens_milli_ / 1000); }

 private:
  void refill(base::TimePoint now) {
    if (!started_) {
      started_ = true;
      last_ = now;
      return;
    }
    if (now <= last_) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count();
    last_ = now;
    // A long pause refills the bucket at most: cap before multiplying so nothing overflows.
    const uint64_t add =
        static_cast<uint64_t>(ms) > burst_milli_ ? burst_milli_ : static_cast<uint64_t>(ms) * rate_;
    tokens_milli_ = tokens_milli_ + add > burst_milli_ ? burst_milli_ : tokens_milli_ + add;
  }

  uint64_t burst_milli_;
  uint64_t rate_;  // tokens per second = milli-tokens per millisecond
  uint64_t tokens_milli_;
  base::TimePoint last_{};
  bool started_ = false;
};

}  // namespace proxy
