// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string_view>

namespace proxy {

inline constexpr size_t kWebSocketKeyLength = 24;     // base64 of 16 bytes
inline constexpr size_t kWebSocketAcceptLength = 28;  // base64 of a SHA-1

// A fresh Sec-WebSocket-Key (RFC 6455 4.1): 16 random bytes in base64. False if the random
// generator failed.
bool make_websocket_key(char (&out)[kWebSocketKeyLength]);

// The Sec-WebSocket-Accept a server answers |key| with (RFC 6455 4.2.2):
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
void websocket_accept(std::string_view key, char (&out)[kWebSocketAcceptLength]);

}  // namespace proxy
