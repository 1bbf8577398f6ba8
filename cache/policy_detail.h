// SPDX-License-Identifier: MIT
// Helpers shared by the policy sources (not part of the cache module's interface).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/freshness.h"
#include "cache/policy.h"
#include "proxy/http/headers.h"
#include "proxy/http/message.h"

namespace cache::detail {

// RFC 9111 1.2.2: delta-seconds (1*DIGIT), saturating at 2^31; nullopt if not all digits.
inline constexpr uint32_t kDeltaMax = 2147483648u;
std::optional<uint32_t> parse_delta_seconds(std::string_view s);

inline bool is_ws(char c) {
  return c == ' ' || c == '\t';
}
std::string_view trim(std::string_view s);

// The date in the first |name| line: nullopt when absent or not an HTTP-date; |present| tells
// which.
std::optional<UnixTime> date_field(const proxy::http::HeaderList& h, std::string_view name,
                                   bool* present = nullptr);

// RFC 9111 5.1: the Age of a response, 0 when absent or not a delta-seconds (the first member of
// the first line counts).
uint32_t age_value(const proxy::http::HeaderList& h);

// The directives that govern our storage and freshness: the targeted field's when it is present
// with a valid directive (RFC 9213 2.1), else Cache-Control's. |targeted| says which.
Directives governing_directives(const proxy::http::HeaderList& h, std::string_view targeted_header,
                                bool& targeted);

// RFC 9111 4.2.1/4.2.2/4.2.3: the freshness of |resp| as received, given its governing
// directives. The lifetime is negative or 0 when the response is stale on arrival.
Freshness compute_freshness(const proxy::http::ResponseHead& resp, const Directives& cc,
                            bool targeted, UnixTime request_time, UnixTime response_time,
                            const PolicyConfig& config);

// Whether the response has explicit freshness (max-age, s-maxage, Expires: 4.2.1).
bool has_explicit_freshness(const proxy::http::HeaderList& h, const Directives& cc, bool targeted);

}  // namespace cache::detail
