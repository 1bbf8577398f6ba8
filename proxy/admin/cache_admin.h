// SPDX-License-Identifier: MIT
// The cache's admin endpoints (interface.md, "Admin API"): purge one URL (all its Vary variants)
// and lazy bans by path prefix or Surrogate-Key tag. Answers are small JSON documents.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace cache {
class Cache;
}

namespace proxy::admin {

struct AdminResult {
  int status = 404;
  std::string_view allow;  // the Allow field of a 405 ("POST")
};

inline constexpr std::string_view kJson = "application/json";

// Answers an admin request for the cache: `POST /cache/purge?url=URL[&host=H]` (URL absolute,
// or a path: its host from host=, else the request's Host) -> {"purged": N};
// `POST /cache/ban?prefix=/p/[&host=H]` and `POST /cache/ban?tag=T` -> {"banned": ...}; another
// method on those paths -> 405 (Allow: POST); another path -> 404; a missing or bad parameter ->
// 400. Query values are percent-decoded. |cache| null (no cache configured) -> 503.
// |include_scheme| is !share_http_https: a purge of a path then drops both schemes' objects.
// Writes the JSON body (one line, ending in "\n") to |body|, replacing what it held.
AdminResult handle_cache_admin(const http::RequestHead& req, cache::Cache* cache,
                               bool include_scheme, std::string& body);

// The value of query parameter |name| in |query| (a=1&b=2), percent-decoded into |out| ('+'
// stays '+': a URL's own plus signs survive). False if absent or badly escaped.
bool query_param(std::string_view query, std::string_view name, std::string& out);

// Appends |s| as a JSON string (quotes, escapes) to |out|.
void append_json_string(std::string& out, std::string_view s);

}  // namespace proxy::admin
