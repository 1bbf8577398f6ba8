// SPDX-License-Identifier: MIT
#include "proxy/stages/response_fields.h"

#include <cstdio>

#include "proxy/exchange.h"
#include "proxy/stages/status_text.h"

namespace proxy::stages {

bool response_has_body(const Exchange& ex, int status) {
  return ex.request.method != http::Method::kHead && status >= 200 && status != 204 &&
         status != 304;
}

bool forwarded_response_field(const http::ResponseHead& resp, const http::Header& field,
                              const http::ConnectionOptions& connection) {
  const std::string_view name = field.name;
  const bool dropped = http::is_hop_by_hop(name) || http::iequals(name, "content-length") ||
                       (name.size() > 8 && http::iequals(name.substr(0, 8), "x-accel-")) ||
                       http::iequals(name, "x-sendfile") || http::iequals(name, "x-upload-keep");
  if (dropped)
    return resp.framing == http::Framing::kNone && resp.status != 204 && resp.status >= 200 &&
           http::iequals(name, "content-length");
  return !connection.lists(name);
}

bool cache_only_field(const Exchange& ex, std::string_view name) {
  if (ex.caching.status == CacheStatus::kNone) return false;
  const auto& cfg = ex.runtime->config->cache;
  const std::string_view targeted =
      cfg.targeted_header.empty() ? std::string_view("cdn-cache-control") : cfg.targeted_header;
  return http::iequals(name, "surrogate-key") || http::iequals(name, targeted) ||
         (!cfg.status_header.empty() && http::iequals(name, cfg.status_header));
}

std::string_view cache_status_field(const Exchange& ex, std::string_view& value) {
  if (ex.caching.status == CacheStatus::kNone) return {};
  value = cache_status_name(ex.caching.status);
  return ex.runtime->config->cache.status_header;
}

size_t local_body(const Exchange& ex, char* buf, size_t cap) {
  const int status = ex.status;
  if (status == 200 && ex.request.asterisk) return 0;
  const std::string_view reason = reason_phrase(status);
  const int n =
      snprintf(buf, cap, "%d %.*s\n", status, static_cast<int>(reason.size()), reason.data());
  if (n <= 0) return 0;
  return static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : cap - 1;
}

std::string_view local_body_text(const Exchange& ex, char* buf, size_t cap) {
  if (!ex.local_text.empty()) return ex.local_text;
  return std::string_view(buf, local_body(ex, buf, cap));
}

std::string_view local_content_type(const Exchange& ex) {
  return ex.local_type.empty() ? kTextPlain : ex.local_type;
}

std::string_view local_allow(const Exchange& ex) {
  if (!ex.allow.empty()) return ex.allow;
  if (ex.request.asterisk && ex.status == 200)
    return "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
  return {};
}

}  // namespace proxy::stages
