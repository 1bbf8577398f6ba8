// SPDX-License-Identifier: MIT
#include "tls/ticket_schedule.h"

#include <doctest/doctest.h>

namespace tls {
namespace {

TicketSchedule::Secret secret_of(unsigned char fill) {
  TicketSchedule::Secret s;
  s.fill(fill);
  return s;
}

TEST_CASE("two processes with the same secret derive the same keys at the same time") {
  TicketSchedule a(secret_of(1), 3600), b(secret_of(1), 3600);
  auto ka = a.key(a.epoch(7200 + 5));
  auto kb = b.key(b.epoch(7200 + 3599));
  REQUIRE(ka);
  REQUIRE(kb);
  CHECK(ka->name == kb->name);
  CHECK(ka->aes == kb->aes);
  CHECK(ka->hmac == kb->hmac);
}

TEST_CASE("another secret or another period gives unrelated keys") {
  TicketSchedule a(secret_of(1), 3600), b(secret_of(2), 3600);
  CHECK(a.key(5)->aes != b.key(5)->aes);
  CHECK(a.key(5)->aes != a.key(6)->aes);
  CHECK(a.key(5)->name != a.key(6)->name);
  CHECK(a.key(5)->aes != a.key(5)->hmac);
}

TEST_CASE("apply installs now's key as current and the period before as previous") {
  TicketSchedule s(secret_of(3), 60);
  TicketKeys keys(*TicketKey::random(), std::nullopt);
  REQUIRE(s.apply(keys, 600));  // epoch 10
  CHECK(keys.current().aes == s.key(10)->aes);
  REQUIRE(s.apply(keys, 659));  // same period: unchanged
  CHECK(keys.current().aes == s.key(10)->aes);
  REQUIRE(s.apply(keys, 660));  // next period: rotated
  CHECK(keys.current().aes == s.key(11)->aes);
}

TEST_CASE("a random schedule differs from another random schedule") {
  auto a = TicketSchedule::random(3600);
  auto b = TicketSchedule::random(3600);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->key(1)->aes != b->key(1)->aes);
}

}  // namespace
}  // namespace tls
