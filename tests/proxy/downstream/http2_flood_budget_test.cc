// SPDX-License-Identifier: MIT
// FloodBudget: the token bucket behind the HTTP/2 flood defences, with an injected clock.
#include "proxy/downstream/http2_flood_budget.h"

#include <doctest/doctest.h>

using proxy::FloodBudget;
using namespace std::chrono_literals;

namespace {
const proxy::base::TimePoint t0 = proxy::base::TimePoint{} + 1000s;
}

TEST_CASE("a burst up to the budget passes; the next event is a flood") {
  FloodBudget b(100, 10);
  for (int i = 0; i < 100; ++i) REQUIRE(b.spend(t0));
  CHECK_FALSE(b.spend(t0));
}

TEST_CASE("the budget refills with time, never beyond the burst") {
  FloodBudget b(100, 10);
  for (int i = 0; i < 100; ++i) REQUIRE(b.spend(t0));
  CHECK_FALSE(b.spend(t0 + 50ms));  // half a token: not yet
  CHECK(b.spend(t0 + 200ms));       // two tokens earned, one spent
  CHECK(b.spend(t0 + 200ms));
  CHECK_FALSE(b.spend(t0 + 200ms));
  CHECK(b.spend(t0 + 1h));
  CHECK(b.tokens() == 99);
}

TEST_CASE("a steady rate under the refill never trips it") {
  FloodBudget b(20, 100);
  auto t = t0;
  for (int i = 0; i < 10000; ++i) {
    t += 20ms;  // 50 per second against 100 per second of refill
    REQUIRE(b.spend(t));
  }
}

TEST_CASE("a sustained rate over the refill trips it after about the burst") {
  FloodBudget b(1000, 100);
  auto t = t0;
  int passed = 0;
  while (b.spend(t)) {
    ++passed;
    t += 1ms;  // 1000 per second against 100 per second
    REQUIRE(passed < 5000);
  }
  CHECK(passed >= 1000);
  CHECK(passed < 1200);
}

TEST_CASE("credit for frames we sent lets a reading client go on, capped at the burst") {
  FloodBudget b(10, 0);
  for (int i = 0; i < 10; ++i) REQUIRE(b.spend(t0));
  b.credit(3);
  CHECK(b.spend(t0));
  CHECK(b.spend(t0));
  CHECK(b.spend(t0));
  CHECK_FALSE(b.spend(t0));
  b.credit(1000);
  CHECK(b.tokens() == 10);
}

TEST_CASE("an expensive event costs several tokens; time going backwards earns nothing") {
  FloodBudget b(10, 10);
  CHECK(b.spend(t0, 8));
  CHECK_FALSE(b.spend(t0 - 10s, 8));
  CHECK(b.tokens() == 2);  // a refused spend takes nothing
}
