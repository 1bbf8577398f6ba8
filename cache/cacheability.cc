// SPDX-License-Identifier: MIT
// RFC 9111 3: whether a shared cache may store a response, and which of its fields.
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache {

using proxy::http::iequals;

bool heuristically_cacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

namespace {

// RFC 9111 5.2.2.3: the statuses whose caching semantics gatehouse implements, for
// must-understand.
bool understood(int status) {
  return (heuristically_cacheable(status) && status != 206) || status == 302 || status == 303 ||
         status == 307;
}

StoreDecision refuse(const char* why) {
  StoreDecision d;
  d.reason = why;
  return d;
}

bool has_vary_star(const proxy::http::HeaderList& h) {
  for (const auto& f : h)
    if (iequals(f.name, "vary") && proxy::http::list_contains(f.value, "*")) return true;
  return false;
}

}  // namespace

StoreDecision decide_store(const proxy::http::RequestHead& req,
                           const proxy::http::ResponseHead& resp, UnixTime request_time,
                           UnixTime response_time, const PolicyConfig& config) {
  const auto& h = resp.headers;
  // A HEAD response has no body to store; other methods' responses are not reused by gatehouse.
  if (req.method != proxy::http::Method::kGet) return refuse("method");
  if (resp.status < 200 || resp.status > 999) return refuse("status");
  if (resp.status == 206) return refuse("partial content");
  if (resp.status == 304) return refuse("not modified");

  // 5.2.1.5: no-store in the request forbids storing its response.
  if (parse_cache_control(req.headers).no_store) return refuse("request no-store");

  bool targeted = false;
  const Directives cc = detail::governing_directives(h, config.targeted_header, targeted);
  if (cc.must_understand) {
    // 5.2.2.3: an understood status overrides no-store; an unknown one is never stored.
    if (!understood(resp.status)) return refuse("must-understand");
  } else if (cc.no_store) {
    return refuse("no-store");
  }
  if (cc.private_) return refuse("private");
  if (h.find("set-cookie") || h.find("set-cookie2")) return refuse("Set-Cookie");
  if (has_vary_star(h)) return refuse("Vary: *");
  // 3.5: a response to an authenticated request is shared only when it says so.
  if (req.headers.find("authorization") && !cc.public_ && !cc.s_maxage && !cc.must_revalidate)
    return refuse("Authorization");
  if (resp.framing == proxy::http::Framing::kLength && resp.content_length > config.max_object_size)
    return refuse("too large");

  const bool explicit_fresh = detail::has_explicit_freshness(h, cc, targeted);
  // 3: a status is storable when heuristically cacheable, or when the response gives explicit
  // freshness or says public.
  if (!heuristically_cacheable(resp.status) && !explicit_fresh && !cc.public_)
    return refuse("status");

  StoreDecision d;
  d.freshness = detail::compute_freshness(resp, cc, targeted, request_time, response_time, config);
  // A response that is stale at once and cannot be revalidated would never be reused.
  const bool validator = h.find("etag") != nullptr || h.find("last-modified") != nullptr;
  if (d.freshness.lifetime <= 0 && !validator) return refuse("no freshness and no validator");
  d.store = true;
  return d;
}

bool stored_field(std::string_view name, const Directives& cc,
                  const proxy::http::ConnectionOptions& connection,
                  std::string_view targeted_header) {
  if (proxy::http::is_hop_by_hop(name) || connection.lists(name)) return false;
  // Age is recomputed on every use (4.2.3), Surrogate-Key becomes the object's tags, and the
  // targeted field is for gatehouse alone.
  if (iequals(name, "age") || iequals(name, "surrogate-key") || iequals(name, targeted_header))
    return false;
  if (iequals(name, "set-cookie") || iequals(name, "set-cookie2")) return false;
  if (cc.private_fields && proxy::http::list_contains(cc.private_list, name)) return false;
  if (cc.no_cache_fields && proxy::http::list_contains(cc.no_cache_list, name)) return false;
  return true;
}

}  // namespace cache
