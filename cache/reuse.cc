// SPDX-License-Identifier: MIT
// RFC 9111 4 and 4.2.4: may a stored response be used for a request, fresh or stale?
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache {

namespace {

// The request's Cache-Control, and Pragma: no-cache when it has none (5.4).
Directives request_directives(const proxy::http::RequestHead& req) {
  Directives rc = parse_cache_control(req.headers);
  if (!rc.any && req.headers.find("cache-control") == nullptr) {
    for (const auto& h : req.headers)
      if (proxy::http::iequals(h.name, "pragma") && proxy::http::list_contains(h.value, "no-cache"))
        rc.no_cache = true;
  }
  return rc;
}

}  // namespace

Reuse decide_reuse(const Freshness& f, const proxy::http::RequestHead& req, UnixTime now) {
  const Directives rc = request_directives(req);
  if (f.no_cache || rc.no_cache) return Reuse::kRevalidate;  // 5.2.2.4, 5.2.1.4
  const int64_t age = current_age(f, now);
  // 5.2.1.1: the client accepts no response older than max-age; max-age=0 asks for validation.
  if (rc.max_age && (age > *rc.max_age || *rc.max_age == 0)) return Reuse::kRevalidate;
  if (rc.max_age_invalid) return Reuse::kRevalidate;
  const int64_t remaining = f.lifetime - age;  // fresh while > 0 (4.2)
  if (remaining > 0) {
    // 5.2.1.3: it must stay fresh for min-fresh more seconds.
    if (rc.min_fresh && remaining < static_cast<int64_t>(*rc.min_fresh)) return Reuse::kRevalidate;
    return Reuse::kFresh;
  }
  if (rc.min_fresh) return Reuse::kRevalidate;
  const int64_t staleness = -remaining;
  // 5.2.1.2: the client accepts a stale response, unless the origin forbids it (5.2.2.2).
  if (rc.max_stale && !f.must_revalidate && staleness <= static_cast<int64_t>(*rc.max_stale))
    return Reuse::kFresh;
  if (f.stale_while_revalidate > 0 && staleness <= static_cast<int64_t>(f.stale_while_revalidate))
    return Reuse::kStaleWhileRevalidate;
  return Reuse::kRevalidate;
}

bool may_serve_stale_on_error(const Freshness& f, const proxy::http::RequestHead& req,
                              UnixTime now) {
  if (f.no_cache) return false;  // 5.2.2.4: never used without a successful validation
  const int64_t staleness = current_age(f, now) - f.lifetime;
  if (staleness < 0) return true;  // still fresh: it stands in for a failed revalidation
  const Directives rc = request_directives(req);
  uint32_t allowed = f.stale_if_error;
  // RFC 5861 4: the client may ask for (more) stale-if-error, where the origin allows stale use.
  if (rc.stale_if_error && !f.must_revalidate && *rc.stale_if_error > allowed)
    allowed = *rc.stale_if_error;
  return staleness <= static_cast<int64_t>(allowed);
}

}  // namespace cache
