// SPDX-License-Identifier: MIT
// RFC 9110 13.2.2: a client's preconditions evaluated against a stored response (RFC 9111 4.3.2).
#include "cache/etag.h"
#include "cache/http_date.h"
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache {

using proxy::http::HeaderList;
using proxy::http::iequals;

namespace {

// Whether some |name| line of |req| matches the stored tag; "*" matches a stored response even
// without an ETag (the representation exists).
bool any_line_matches(const HeaderList& req, std::string_view name, const EntityTag* stored,
                      bool strong) {
  for (const auto& h : req) {
    if (!iequals(h.name, name)) continue;
    if (detail::trim(h.value) == "*") return true;
    if (stored && list_matches(h.value, *stored, strong)) return true;
  }
  return false;
}

// 13.1.3/13.1.4: a date precondition is ignored unless it is one valid HTTP-date.
std::optional<UnixTime> single_date(const HeaderList& req, std::string_view name) {
  if (req.count(name) != 1) return std::nullopt;
  return parse_http_date(req.find(name)->value);
}

}  // namespace

Precondition evaluate_preconditions(const proxy::http::RequestHead& req, const HeaderList& stored) {
  using proxy::http::Method;
  if (req.method != Method::kGet && req.method != Method::kHead) return Precondition::kServe;
  const HeaderList& h = req.headers;
  EntityTag etag;
  const auto* etag_field = stored.find("etag");
  const bool has_etag = etag_field && parse_etag(etag_field->value, etag);
  const EntityTag* tag = has_etag ? &etag : nullptr;

  // Step 1: If-Match (strong comparison); step 2: If-Unmodified-Since when there is none.
  if (h.find("if-match")) {
    if (!any_line_matches(h, "if-match", tag, true)) return Precondition::kFailed;
  } else if (const auto ius = single_date(h, "if-unmodified-since")) {
    const auto lm = detail::date_field(stored, "last-modified");
    if (lm && *lm > *ius) return Precondition::kFailed;
  }
  // Step 3: If-None-Match (weak comparison); step 4: If-Modified-Since when there is none.
  if (h.find("if-none-match")) {
    return any_line_matches(h, "if-none-match", tag, false) ? Precondition::kNotModified
                                                            : Precondition::kServe;
  }
  if (const auto ims = single_date(h, "if-modified-since")) {
    auto lm = detail::date_field(stored, "last-modified");
    if (!lm) lm = detail::date_field(stored, "date");
    if (lm && *lm <= *ims) return Precondition::kNotModified;
  }
  return Precondition::kServe;
}

}  // namespace cache
