// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cache/freshness.h"

namespace cache {

// RFC 9110 5.6.7: an HTTP-date in any of its three forms (IMF-fixdate, the obsolete RFC 850
// form, asctime), or nullopt if |text| is none of them. Leading/trailing whitespace is allowed;
// names are matched case-sensitively as the grammar says, except the zone ("GMT"). A two-digit
// RFC 850 year below 70 is 20yy, else 19yy.
std::optional<UnixTime> parse_http_date(std::string_view text);

// IMF-fixdate is always 29 characters ("Sun, 06 Nov 1994 08:49:37 GMT").
inline constexpr size_t kHttpDateLength = 29;

// Writes the IMF-fixdate of |t| to |out| (at least kHttpDateLength bytes, not terminated);
// returns kHttpDateLength. Years outside 0..9999 are clamped.
size_t format_http_date(UnixTime t, char* out);
std::string format_http_date(UnixTime t);

}  // namespace cache
