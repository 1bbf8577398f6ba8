// SPDX-License-Identifier: MIT
#include "tls/ticket_keys.h"

#include <doctest/doctest.h>

namespace tls {
namespace {

TEST_CASE("rotation makes a fresh current key") {
  auto keys = TicketKeys::create();
  REQUIRE(keys.has_value());
  TicketKey before = (*keys)->current();
  REQUIRE((*keys)->rotate());
  TicketKey after = (*keys)->current();
  CHECK(before.name != after.name);
  CHECK(before.aes != after.aes);
  CHECK(before.hmac != after.hmac);

  TicketKey fixed;
  fixed.name.fill(7);
  (*keys)->rotate(fixed);
  CHECK((*keys)->current().name == fixed.name);
}

}  // namespace
}  // namespace tls
