// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/base/log.h"

namespace proxy {

struct Exchange;

// What the logs say about an exchange: the access log line's parts and the context that error
// lines carry, as nginx writes them.

// How a log escapes bytes: nginx's default (\xHH for '"', '\' and bytes outside 0x20-0x7e), or
// for a JSON string (\" \\ and \u00HH, so the line stays valid JSON whatever the client sent).
enum class Escape : uint8_t { kNginx, kJson };

// Copies |s| into |out| escaped. Stops before an input byte whose escape would not fit. Returns
// the bytes written.
size_t log_escape(char* out, size_t cap, std::string_view s, Escape how = Escape::kNginx);

// The request line, escaped: "METHOD TARGET HTTP/1.1" (or HTTP/1.0, HTTP/2.0) for a parsed
// request; for a head the parser refused, the bytes of its request line as received (at most
// kMaxLoggedLine of them, then "..."); "-" when nothing is known. Returns the bytes written.
inline constexpr size_t kMaxLoggedLine = 1024;
size_t format_request_line(const Exchange& ex, char* out, size_t cap, Escape how = Escape::kNginx);

// nginx's $body_bytes_sent: bytes sent to the client, the response head not counted (HTTP/1.1
// chunk framing is counted, as nginx does).
uint64_t body_bytes_sent(const Exchange& ex);

// Writes one error-log line: the message, then what is known of the request, as nginx does:
// ", client: IP, request: "GET / HTTP/1.1", host: "H", rule: "R", pool: "P", upstream: "ADDR",
// request_id: N" (", attempt: N" before the id from a backend's second attempt on). Call it through
// EX_LOG_* below, which check the level before formatting.
void log_exchange(base::LogLevel level, const Exchange& ex, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace proxy

#define EX_LOG(level, ex, ...)                                                   \
  do {                                                                           \
    if (static_cast<int>(level) <= static_cast<int>(::proxy::base::log_level())) \
      ::proxy::log_exchange(level, ex, __VA_ARGS__);                             \
  } while (0)
#define EX_LOG_ERROR(ex, ...) EX_LOG(::proxy::base::LogLevel::kError, ex, __VA_ARGS__)
#define EX_LOG_WARN(ex, ...) EX_LOG(::proxy::base::LogLevel::kWarn, ex, __VA_ARGS__)
#define EX_LOG_INFO(ex, ...) EX_LOG(::proxy::base::LogLevel::kInfo, ex, __VA_ARGS__)
