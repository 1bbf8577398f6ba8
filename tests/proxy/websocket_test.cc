// SPDX-License-Identifier: MIT
#include "proxy/websocket.h"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("Sec-WebSocket-Accept is RFC 6455's example answer for its example key") {
  char accept[proxy::kWebSocketAcceptLength];
  proxy::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
  CHECK(std::string(accept, sizeof accept) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("a made Sec-WebSocket-Key is 24 base64 characters ending in ==, fresh each time") {
  char a[proxy::kWebSocketKeyLength];
  char b[proxy::kWebSocketKeyLength];
  REQUIRE(proxy::make_websocket_key(a));
  REQUIRE(proxy::make_websocket_key(b));
  CHECK(std::string(a + 22, 2) == "==");
  CHECK(std::string(a, sizeof a) != std::string(b, sizeof b));
}
