// SPDX-License-Identifier: MIT
#include "proxy/exchange_log.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "proxy/exchange.h"
#include "proxy/runtime.h"

namespace proxy {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Appends to a fixed buffer, silently stopping at its end (a log line is cut, never overrun).
struct Out {
  char* buf;
  size_t cap;
  size_t n = 0;
  void add(std::string_view s) {
    const size_t k = s.size() < cap - n ? s.size() : cap - n;
    memcpy(buf + n, s.data(), k);
    n += k;
  }
  void escaped(std::string_view s, Escape how = Escape::kNginx) {
    n += log_escape(buf + n, cap - n, s, how);
  }
};

}  // namespace

size_t log_escape(char* out, size_t cap, std::string_view s, Escape how) {
  size_t n = 0;
  for (unsigned char c : s) {
    if (how == Escape::kJson && (c == '"' || c == '\\')) {
      if (n + 2 > cap) break;
      out[n++] = '\\';
      out[n++] = static_cast<char>(c);
    } else if (how == Escape::kJson && (c < 0x20 || c >= 0x7f)) {
      if (n + 6 > cap) break;
      memcpy(out + n, "\\u00", 4);
      n += 4;
      out[n++] = kHex[c >> 4];
      out[n++] = kHex[c & 15];
    } else if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
      if (n + 4 > cap) break;
      out[n++] = '\\';
      out[n++] = 'x';
      out[n++] = kHex[c >> 4];
      out[n++] = kHex[c & 15];
    } else {
      if (n + 1 > cap) break;
      out[n++] = static_cast<char>(c);
    }
  }
  return n;
}

size_t format_request_line(const Exchange& ex, char* out, size_t cap, Escape how) {
  Out o{out, cap};
  const auto& req = ex.request;
  if (!ex.raw_request_line.empty()) {
    const std::string_view raw = ex.raw_request_line;
    o.escaped(raw.substr(0, kMaxLoggedLine), how);
    if (raw.size() > kMaxLoggedLine) o.add("...");
  } else if (req.method_name.empty() && req.target.empty()) {
    o.add("-");
  } else {
    o.escaped(req.method_name.empty() ? std::string_view("-") : req.method_name, how);
    o.add(" ");
    o.escaped(req.target.empty() ? std::string_view("-") : req.target, how);
    o.add(req.http2 ? " HTTP/2.0" : req.version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
  }
  return o.n;
}

uint64_t body_bytes_sent(const Exchange& ex) {
  if (ex.request.http2) return ex.data_bytes;
  return ex.bytes_out > ex.head_bytes ? ex.bytes_out - ex.head_bytes : 0;
}

void log_exchange(base::LogLevel level, const Exchange& ex, const char* fmt, ...) {
  char line[1900];
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  Out o{line, sizeof line,
        m < 0 ? 0 : (static_cast<size_t>(m) < sizeof line ? m : sizeof line - 1)};
  o.add(", client: ");
  o.add(ex.client_ip_len > 0 ? std::string_view(ex.client_ip, ex.client_ip_len) : "-");
  o.add(", request: \"");
  char request[512];
  o.add(std::string_view(request, format_request_line(ex, request, sizeof request)));
  o.add("\"");
  if (!ex.request.authority.empty()) {
    o.add(", host: \"");
    o.escaped(ex.request.authority);
    o.add("\"");
  }
  if (ex.rule) {
    o.add(", rule: \"");
    o.add(ex.rule->name);
    o.add("\"");
  }
  if (ex.pool && ex.pool->config) {
    o.add(", pool: \"");
    o.add(ex.pool->config->name);
    o.add("\"");
  }
  if (ex.server) {
    o.add(", upstream: \"");
    o.add(ex.server->address.text);
    o.add("\"");
  }
  char id[64];
  const int k = ex.attempts > 1 ? snprintf(id, sizeof id, ", attempt: %d, request_id: %llu",
                                           ex.attempts, static_cast<unsigned long long>(ex.id))
                                : snprintf(id, sizeof id, ", request_id: %llu",
                                           static_cast<unsigned long long>(ex.id));
  if (k > 0) o.add(std::string_view(id, static_cast<size_t>(k)));
  base::log_line(level, "%.*s", static_cast<int>(o.n), line);
}

}  // namespace proxy
