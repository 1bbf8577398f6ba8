// SPDX-License-Identifier: MIT
#include "proxy/admin/cache_admin.h"

#include <cstdio>

#include "cache/cache.h"
#include "cache/cache_key.h"
#include "proxy/http/char_class.h"
#include "proxy/http/headers.h"
#include "proxy/http/parser.h"

namespace proxy::admin {
namespace {

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = http::cc::hex_value_or_none(in[i + 1]),
              lo = http::cc::hex_value_or_none(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  return true;
}

void error(std::string& body, std::string_view message) {
  body = "{\"error\": ";
  append_json_string(body, message);
  body += "}\n";
}

// The URL's path normalized as request paths are (the key is made from normalized paths), in
// place; false if it cannot be (a bad escape, a climb above the root).
bool normalize_url_path(std::string& url) {
  size_t start = 0;
  if (!url.empty() && url.front() != '/') {
    const size_t sep = url.find("://");
    if (sep == std::string::npos) return false;
    start = url.find_first_of("/?#", sep + 3);
    if (start == std::string::npos || url[start] != '/') return true;  // no path: "/"
  }
  size_t end = url.find_first_of("?#", start);
  if (end == std::string::npos) end = url.size();
  auto len = http::normalize_path(url.data() + start, end - start);
  if (!len) return false;
  url.erase(start + *len, end - start - *len);
  return true;
}

AdminResult purge(const http::RequestHead& req, cache::Cache& cache, bool include_scheme,
                  std::string& body) {
  std::string url, host;
  if (!query_param(req.query, "url", url) || url.empty()) {
    error(body, "purge needs url=URL");
    return {400, {}};
  }
  if (!query_param(req.query, "host", host)) host.assign(req.authority);
  if (!normalize_url_path(url)) {
    error(body, "the url's path is malformed");
    return {400, {}};
  }
  const bool relative = url.front() == '/';
  if (relative && host.empty()) {
    error(body, "a path needs host=H or a Host field");
    return {400, {}};
  }
  size_t purged = 0;
  cache::CacheKey key;
  if (!cache::key_for_url(url, "http", host, include_scheme, key)) {
    error(body, "url is not an http or https URL or an absolute path");
    return {400, {}};
  }
  purged += cache.purge(key);
  // Objects are keyed per scheme only when the schemes do not share: a path drops both.
  if (relative && include_scheme && cache::key_for_url(url, "https", host, true, key))
    purged += cache.purge(key);
  char n[24];
  snprintf(n, sizeof n, "%zu", purged);
  body = "{\"purged\": ";
  body += n;
  body += "}\n";
  return {200, {}};
}

AdminResult ban(const http::RequestHead& req, cache::Cache& cache, std::string& body) {
  std::string prefix, tag, host;
  const bool has_prefix = query_param(req.query, "prefix", prefix) && !prefix.empty();
  const bool has_tag = query_param(req.query, "tag", tag) && !tag.empty();
  if (has_prefix == has_tag) {
    error(body, "ban needs one of prefix=/path/ or tag=T");
    return {400, {}};
  }
  if (has_tag) {
    cache.ban_tag(tag);
    body = "{\"banned\": \"tag\", \"tag\": ";
    append_json_string(body, tag);
    body += "}\n";
    return {200, {}};
  }
  if (prefix.front() != '/') {
    error(body, "prefix must be a path starting with /");
    return {400, {}};
  }
  query_param(req.query, "host", host);
  cache.ban_prefix(host, prefix);
  body = "{\"banned\": \"prefix\", \"prefix\": ";
  append_json_string(body, prefix);
  if (!host.empty()) {
    body += ", \"host\": ";
    append_json_string(body, host);
  }
  body += "}\n";
  return {200, {}};
}

}  // namespace

bool query_param(std::string_view query, std::string_view name, std::string& out) {
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view item = query.substr(i, amp - i);
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (key == name)
      return percent_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1),
                            out);
    i = amp + 1;
  }
  return false;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;  // UTF-8 passes as it is
    }
  }
  out += '"';
}

AdminResult handle_cache_admin(const http::RequestHead& req, cache::Cache* cache,
                               bool include_scheme, std::string& body) {
  const bool is_purge = req.path == "/cache/purge";
  const bool is_ban = req.path == "/cache/ban";
  if (!is_purge && !is_ban) {
    error(body, "no such admin endpoint");
    return {404, {}};
  }
  if (req.method != http::Method::kPost) {
    error(body, "use POST");
    return {405, "POST"};
  }
  if (!cache) {
    error(body, "no cache is configured");
    return {503, {}};
  }
  return is_purge ? purge(req, *cache, include_scheme, body) : ban(req, *cache, body);
}

}  // namespace proxy::admin
