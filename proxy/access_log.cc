// SPDX-License-Identifier: MIT
#include "proxy/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "proxy/base/log.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"

namespace proxy {
namespace {

int inherited_fd(const std::string& path) {
  if (path == "-" || path == "/dev/stdout" || path == "/proc/self/fd/1") return 1;
  if (path == "/dev/stderr" || path == "/proc/self/fd/2") return 2;
  return -1;
}

}  // namespace

bool AccessLog::open(const std::string& path, Format format) {
  path_ = path;
  format_ = format;
  inherited_ = inherited_fd(path);
  if (inherited_ >= 0) {
    // A duplicate shares the open file description, so its offset too.
    int fd = fcntl(inherited_, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return false;
    fd_.reset(fd);
    return true;
  }
  return reopen();
}

void AccessLog::adopt(const std::string& path, Format format, base::UniqueFd fd) {
  path_ = path;
  format_ = format;
  inherited_ = inherited_fd(path);
  fd_ = std::move(fd);
}

bool AccessLog::reopen() {
  if (inherited_ >= 0) return static_cast<bool>(fd_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  fd_.reset(fd);
  return true;
}

void AccessLog::give_to(uid_t uid, gid_t gid) const {
  struct stat st;
  if (inherited_ >= 0 || !fd_ || fstat(fd_.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid == uid)
    return;
  if (fchown(fd_.get(), uid, gid) != 0)
    LOG_WARN("cannot give the access log %s to uid %u: %s (USR1 may fail to reopen it)",
             path_.c_str(), static_cast<unsigned>(uid), strerror(errno));
}

size_t AccessLog::format(const Exchange& ex, Format format, char* out, size_t cap) {
  const auto& req = ex.request;
  // Each part is bounded so that the whole line fits: escaping makes at most 6 bytes of 1.
  const Escape how = format == Format::kJson ? Escape::kJson : Escape::kNginx;
  char request[6 * kMaxLoggedLine + 64], ua[1024], referer[1024];
  const size_t qn = format_request_line(ex, request, sizeof request, how);
  const auto* h = req.headers.find("user-agent");
  size_t un = log_escape(ua, sizeof ua, h ? h->value : "-", how);
  h = req.headers.find("referer");
  size_t rn = log_escape(referer, sizeof referer, h ? h->value : "-", how);
  time_t now = time(nullptr);
  tm t;
  localtime_r(&now, &t);
  char when[40];
  strftime(when, sizeof when, format == Format::kJson ? "%FT%T%z" : "%d/%b/%Y:%H:%M:%S %z", &t);
  const std::string_view ip(ex.client_ip, ex.client_ip_len);
  const double ms = std::chrono::duration<double, std::milli>(base::now() - ex.started).count();
  const auto body = static_cast<unsigned long long>(body_bytes_sent(ex));
  const std::string_view cache = cache_status_name(ex.caching.status);
  int n;
  if (format == Format::kJson) {
    char method[64], target[4 * kMaxLoggedLine];
    const size_t mn = log_escape(method, sizeof method, req.method_name, how);
    const size_t tn = log_escape(target, sizeof target, req.target, how);
    n = snprintf(out, cap,
                 "{\"time\":\"%s\",\"client\":\"%.*s\",\"method\":\"%.*s\",\"target\":\"%.*s\","
                 "\"request\":\"%.*s\",\"status\":%d,\"body_bytes_sent\":%llu,\"bytes_sent\":%llu,"
                 "\"ms\":%.3f,\"rule\":\"%s\",\"user_agent\":\"%.*s\",\"cache\":\"%.*s\"}\n",
                 when, static_cast<int>(ip.size()), ip.data(), static_cast<int>(mn), method,
                 static_cast<int>(tn), target, static_cast<int>(qn), request, ex.status, body,
                 static_cast<unsigned long long>(ex.bytes_out), ms,
                 ex.rule ? ex.rule->name.c_str() : "", static_cast<int>(un), ua,
                 static_cast<int>(cache.size()), cache.data());
  } else {
    // With a cache, the status (HIT, MISS, ...) is one more field at the end, as nginx's
    // $upstream_cache_status is usually logged.
    n = snprintf(out, cap, "%.*s - - [%s] \"%.*s\" %d %llu \"%.*s\" \"%.*s\"%s%.*s\n",
                 static_cast<int>(ip.size()), ip.data(), when, static_cast<int>(qn), request,
                 ex.status, body, static_cast<int>(rn), referer, static_cast<int>(un), ua,
                 cache.empty() ? "" : " ", static_cast<int>(cache.size()), cache.data());
  }
  if (n <= 0) return 0;
  if (static_cast<size_t>(n) < cap) return static_cast<size_t>(n);
  out[cap - 1] = '\n';  // cut, but still one line
  return cap;
}

void AccessLog::write(const Exchange& ex) {
  if (!fd_) return;
  char line[16 * 1024];
  const size_t n = format(ex, format_, line, sizeof line);
  if (n > 0) {
    ssize_t w = ::write(fd_.get(), line, n);
    (void)w;
  }
}

}  // namespace proxy
