// SPDX-License-Identifier: MIT
// RFC 9111 4.3: revalidating a stored response (4.3.1 validators, 3.2/4.3.4 the 304 update)
// and 4.4 invalidation by unsafe methods.
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache {

using proxy::http::HeaderList;
using proxy::http::iequals;

namespace {

void append_field(std::string_view name, std::string_view value, std::string& out) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// 3.2: fields a 304 never changes: the body's framing and coding stay those of the stored body.
bool keeps_stored(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "content-encoding") ||
         iequals(name, "content-range");
}

}  // namespace

void merge_not_modified(const HeaderList& stored, const HeaderList& update, std::string& out) {
  merge_not_modified(stored, update, out, PolicyConfig{}.targeted_header);
}

void merge_not_modified(const HeaderList& stored, const HeaderList& update, std::string& out,
                        std::string_view targeted_header) {
  const Directives cc = parse_cache_control(update);
  const proxy::http::ConnectionOptions connection(update);
  auto updates = [&](std::string_view name) {
    return !keeps_stored(name) && stored_field(name, cc, connection, targeted_header);
  };
  for (const auto& s : stored) {
    bool replaced = false;
    for (const auto& u : update) {
      if (iequals(u.name, s.name) && updates(u.name)) {
        replaced = true;
        break;
      }
    }
    if (!replaced) append_field(s.name, s.value, out);
  }
  for (const auto& u : update)
    if (updates(u.name)) append_field(u.name, u.value, out);
}

bool validators_for(const HeaderList& stored, std::string& out) {
  bool any = false;
  bool first_etag = true;
  for (const auto& h : stored) {
    if (!iequals(h.name, "etag")) continue;
    if (first_etag) out.append("If-None-Match: ");
    if (!first_etag) out.append(", ");
    out.append(h.value);
    first_etag = false;
  }
  if (!first_etag) {
    out.append("\r\n");
    any = true;
  }
  if (const auto* lm = stored.find("last-modified")) {
    append_field("If-Modified-Since", lm->value, out);
    any = true;
  }
  return any;
}

Invalidation invalidation_for(const proxy::http::RequestHead& req,
                              const proxy::http::ResponseHead& resp) {
  using proxy::http::Method;
  Invalidation inv;
  switch (req.method) {
    case Method::kGet:
    case Method::kHead:
    case Method::kOptions:
    case Method::kTrace:
    case Method::kConnect:
      return inv;
    default:
      break;
  }
  // 4.4: only a non-error response (2xx or 3xx) invalidates.
  if (resp.status < 200 || resp.status >= 400) return inv;
  inv.target = true;
  if (const auto* l = resp.headers.find("location")) inv.location = l->value;
  if (const auto* cl = resp.headers.find("content-location")) inv.content_location = cl->value;
  return inv;
}

}  // namespace cache
