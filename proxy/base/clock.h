// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>

namespace proxy::base {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;
using WallClock = std::chrono::system_clock;

// Policy code takes `now` as an argument; only the I/O layer calls this.
inline TimePoint now() {
  return Clock::now();
}

}  // namespace proxy::base
