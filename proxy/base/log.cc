// SPDX-License-Identifier: MIT
#include "proxy/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace proxy::base {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
const char* g_tag = "gatehouse";
const char* const kLevelNames[] = {"error", "warn", "info", "debug"};
}  // namespace

LogLevel log_level() {
  return g_level.load(std::memory_order_relaxed);
}
void set_log_level(LogLevel level) {
  g_level.store(level, std::memory_order_relaxed);
}
void set_log_process_tag(const char* tag) {
  g_tag = tag;
}

void log_line(LogLevel level, const char* fmt, ...) {
  char line[2048];
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  int n = snprintf(line, sizeof line,
                   "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] %s[%d]: ", t.tm_year + 1900,
                   t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000,
                   kLevelNames[static_cast<int>(level)], g_tag, getpid());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  size_t len =
      n + (m < 0 ? 0 : (static_cast<size_t>(m) >= sizeof line - n - 1 ? sizeof line - n - 2 : m));
  line[len++] = '\n';
  ssize_t w = ::write(2, line, len);
  (void)w;
}

}  // namespace proxy::base
