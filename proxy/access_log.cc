// SPDX-License-Identifier: MIT
#include "proxy/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "proxy/downstream/http1_connection.h"
#include "proxy/exchange.h"

namespace proxy {
namespace {

// Copies `s` with quotes, backslashes and control bytes escaped, as nginx does in its logs.
size_t escaped(char* out, size_t cap, std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if (n + 4 >= cap) break;
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
      n += static_cast<size_t>(snprintf(out + n, cap - n, "\\x%02X", c));
    } else {
      out[n++] = static_cast<char>(c);
    }
  }
  return n;
}

}  // namespace

bool AccessLog::open(const std::string& path, Format format) {
  path_ = path;
  format_ = format;
  return reopen();
}

bool AccessLog::reopen() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  fd_.reset(fd);
  return true;
}

void AccessLog::write(const Exchange& ex) {
  if (!fd_) return;
  const auto& req = ex.request;
  char target[2048], ua[512], referer[512];
  size_t tn = escaped(target, sizeof target, req.target);
  const auto* h = req.headers.find("user-agent");
  size_t un = escaped(ua, sizeof ua, h ? h->value : "-");
  h = req.headers.find("referer");
  size_t rn = escaped(referer, sizeof referer, h ? h->value : "-");
  time_t now = time(nullptr);
  tm t;
  localtime_r(&now, &t);
  char when[40];
  strftime(when, sizeof when, format_ == Format::kJson ? "%FT%T%z" : "%d/%b/%Y:%H:%M:%S %z", &t);
  const std::string_view ip(ex.client_ip, ex.client_ip_len);
  const double ms = std::chrono::duration<double, std::milli>(base::now() - ex.started).count();
  char line[4096];
  int n;
  if (format_ == Format::kJson) {
    n = snprintf(
        line, sizeof line,
        "{\"time\":\"%s\",\"client\":\"%.*s\",\"method\":\"%.*s\",\"target\":\"%.*s\","
        "\"status\":%d,\"bytes\":%llu,\"ms\":%.3f,\"rule\":\"%s\",\"user_agent\":\"%.*s\"}\n",
        when, static_cast<int>(ip.size()), ip.data(), static_cast<int>(req.method_name.size()),
        req.method_name.data(), static_cast<int>(tn), target, ex.status,
        static_cast<unsigned long long>(ex.bytes_out), ms, ex.rule ? ex.rule->name.c_str() : "",
        static_cast<int>(un), ua);
  } else {
    n = snprintf(
        line, sizeof line, "%.*s - - [%s] \"%.*s %.*s HTTP/%s\" %d %llu \"%.*s\" \"%.*s\"\n",
        static_cast<int>(ip.size()), ip.data(), when, static_cast<int>(req.method_name.size()),
        req.method_name.data(), static_cast<int>(tn), target,
        req.http2                ? "2.0"
        : req.version_minor == 0 ? "1.0"
                                 : "1.1",
        ex.status, static_cast<unsigned long long>(ex.bytes_out), static_cast<int>(rn), referer,
        static_cast<int>(un), ua);
  }
  if (n > 0) {
    ssize_t w = ::write(fd_.get(), line, n < static_cast<int>(sizeof line) ? n : sizeof line - 1);
    (void)w;
  }
}

}  // namespace proxy
