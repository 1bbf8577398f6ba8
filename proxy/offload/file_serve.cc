// SPDX-License-Identifier: MIT
#include "proxy/offload/file_serve.h"

#include <cstdio>

#include "cache/http_date.h"
#include "proxy/cache_reply.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/offload/mime.h"

namespace proxy::offload {
namespace {

bool has_charset(std::string_view type) {
  for (size_t i = 0; i + 8 <= type.size(); ++i)
    if (http::iequals(type.substr(i, 8), "charset=")) return true;
  return false;
}

// Appends |value| to |storage| (reserved: no reallocation, earlier views stay valid) and pushes
// the field.
void push(ExchangeFile& f, std::string_view name, std::string_view value) {
  const size_t at = f.storage.size();
  f.storage.append(value);
  f.fields.push(name, std::string_view(f.storage.data() + at, value.size()));
}

// The representation's fields, as a stored response's would be: what plan_reply and the heads
// read. Views into f.storage; the caller's views are copied.
void make_fields(ExchangeFile& f, std::string_view relative, const ServeFields& in) {
  const std::string_view type = in.content_type.empty() ? mime_type(relative) : in.content_type;
  const bool add_charset = !in.charset.empty() && !has_charset(type);
  size_t need = type.size() + (add_charset ? in.charset.size() + 10 : 0) + 64 + in.etag.size() +
                in.last_modified.size() + cache::kHttpDateLength + 8;
  for (const auto& h : in.extra) need += h.name.size() + h.value.size();
  f.storage.clear();
  f.storage.reserve(need);
  f.fields.clear();
  if (add_charset) {
    const size_t at = f.storage.size();
    f.storage.append(type).append("; charset=").append(in.charset);
    f.fields.push("Content-Type", std::string_view(f.storage.data() + at, f.storage.size() - at));
  } else {
    push(f, "Content-Type", type);
  }
  bool accept_ranges = false;
  for (const auto& h : in.extra) {
    const size_t at = f.storage.size();
    f.storage.append(h.name);
    const std::string_view name(f.storage.data() + at, h.name.size());
    push(f, name, h.value);
    if (http::iequals(h.name, "accept-ranges")) accept_ranges = true;
  }
  if (!in.etag.empty()) {
    push(f, "ETag", in.etag);
  } else {
    // Strong (RFC 9110 8.8.3): the bytes change only with the size or the modification time,
    // nanoseconds included, as far as gatehouse can tell.
    char etag[48];
    const unsigned long long mtime_ns =
        static_cast<unsigned long long>(f.file.mtime_sec) * 1000000000ull +
        static_cast<unsigned long long>(f.file.mtime_nsec);
    const int n = snprintf(etag, sizeof etag, "\"%llx-%llx\"", mtime_ns,
                           static_cast<unsigned long long>(f.file.size));
    if (n > 0) push(f, "ETag", std::string_view(etag, static_cast<size_t>(n)));
  }
  if (!in.last_modified.empty()) {
    push(f, "Last-Modified", in.last_modified);
  } else {
    char date[cache::kHttpDateLength];
    const size_t n = cache::format_http_date(f.file.mtime_sec, date);
    push(f, "Last-Modified", std::string_view(date, n));
  }
  if (!accept_ranges) f.fields.push("Accept-Ranges", "bytes");
}

Next refuse(Exchange& ex, std::string_view relative, const OpenResult& r) {
  ex.status = r.status == OpenStatus::kForbidden ? 403 : 404;
  ex.error_detail = r.why;
  if (r.status == OpenStatus::kRefused)
    EX_LOG_WARN(ex, "file %.*s refused: %s", static_cast<int>(relative.size()), relative.data(),
                r.why);
  else
    EX_LOG_INFO(ex, "file %.*s: %d %s", static_cast<int>(relative.size()), relative.data(),
                ex.status, r.why);
  return Next::kRespond;
}

}  // namespace

Next serve_file(Exchange& ex, int root_fd, std::string_view relative, const ServeFields& in) {
  ExchangeFile& f = ex.file;
  f.reset();
  if (root_fd < 0) return refuse(ex, relative, {OpenStatus::kNotFound, "no such root"});
  if (const OpenResult r = open_beneath(root_fd, relative, f.file); r.status != OpenStatus::kOk)
    return refuse(ex, relative, r);
  make_fields(f, relative, in);
  f.reply = plan_reply(ex.request, 200, f.fields, f.file.size, true);
  f.limit_rate = in.limit_rate;
  f.via = in.via;
  f.active = true;
  // The exchange owns the file and resets its output before closing it: no keep needed.
  f.body.start_reply(ex, f.file.fd.get(), nullptr, f.reply, f.file.size);
  if (in.limit_rate > 0) f.body.limit_rate(in.limit_rate);
  ex.status = f.reply.status;
  ex.upstream_done = false;
  return Next::kServe;
}

}  // namespace proxy::offload
