// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/http/headers.h"

namespace cache {

// Cache-Control directives (RFC 9111 5.2), request and response ones together, from every line
// of the field. Delta-seconds saturate at 2^31 (RFC 9111 1.2.2); a directive whose value is
// invalid is treated as absent, except where 4.2.1/5.2 say otherwise (a duplicated or invalid
// max-age makes the response stale: |max_age_invalid|).
struct Directives {
  std::optional<uint32_t> max_age;
  std::optional<uint32_t> s_maxage;
  std::optional<uint32_t> stale_while_revalidate;
  std::optional<uint32_t> stale_if_error;
  std::optional<uint32_t> min_fresh;  // request
  std::optional<uint32_t> max_stale;  // request; value-less max-stale: UINT32_MAX
  bool max_age_invalid = false;
  bool s_maxage_invalid = false;
  bool no_store = false;
  bool no_cache = false;         // unqualified (a qualified no-cache="f" lists fields instead)
  bool no_cache_fields = false;  // no-cache="field,...": those fields are not sent on reuse
  bool private_ = false;         // unqualified
  bool private_fields = false;   // private="field,...": a shared cache may store without them
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool must_understand = false;
  bool no_transform = false;
  bool only_if_cached = false;  // request
  bool immutable = false;
  bool any = false;  // the field was present with at least one directive
  // The field values of qualified no-cache / private, as sent (without quotes).
  std::string_view no_cache_list;
  std::string_view private_list;
};

// Parses every |name| line of |headers| (Cache-Control, or a targeted field like
// CDN-Cache-Control, RFC 9213, which has the same syntax). Views point into |headers|.
Directives parse_cache_control(const proxy::http::HeaderList& headers,
                               std::string_view name = "cache-control");

// RFC 9213 2.1: a targeted field (CDN-Cache-Control) is a Structured Fields Dictionary (RFC 8941).
// Its lines are parsed strictly: if one is not a valid Dictionary, the whole field is ignored
// (|any| false). Directives of the wrong type (max-age="5", no-store=1) are ignored; |any| is
// set only if a valid directive remains (an unknown extension counts), so an empty or invalid
// field leaves Cache-Control in charge. Views point into |headers|.
Directives parse_targeted_cache_control(const proxy::http::HeaderList& headers,
                                        std::string_view name);

}  // namespace cache
