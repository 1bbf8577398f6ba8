// SPDX-License-Identifier: MIT
#pragma once

#include <cstdarg>
#include <cstdint>

namespace proxy::base {

enum class LogLevel : uint8_t { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// The error log goes to stderr, one line per call, written with a single write(2) so lines from
// several threads and processes never interleave.
LogLevel log_level();
void set_log_level(LogLevel level);
void set_log_process_tag(const char* tag);  // "main", "worker": shown on every line
void log_line(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace proxy::base

// The level is checked before any argument is formatted.
#define GH_LOG(level, ...)                                                       \
  do {                                                                           \
    if (static_cast<int>(level) <= static_cast<int>(::proxy::base::log_level())) \
      ::proxy::base::log_line(level, __VA_ARGS__);                               \
  } while (0)
#define LOG_ERROR(...) GH_LOG(::proxy::base::LogLevel::kError, __VA_ARGS__)
#define LOG_WARN(...) GH_LOG(::proxy::base::LogLevel::kWarn, __VA_ARGS__)
#define LOG_INFO(...) GH_LOG(::proxy::base::LogLevel::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) GH_LOG(::proxy::base::LogLevel::kDebug, __VA_ARGS__)
