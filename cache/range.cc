// SPDX-License-Identifier: MIT
// RFC 9110 14: byte ranges of a complete stored representation.
#include "cache/range.h"

#include "cache/etag.h"
#include "cache/http_date.h"
#include "cache/policy_detail.h"

namespace cache {

namespace {

// 1*DIGIT, saturating (a huge first-pos is simply beyond any size).
bool read_number(std::string_view s, size_t& i, uint64_t& v) {
  const size_t start = i;
  v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return i > start;
}

}  // namespace

RangeResult parse_range(std::string_view value, uint64_t size, ByteRange (&out)[kMaxRanges],
                        size_t& count) {
  count = 0;
  value = detail::trim(value);
  // ranges-specifier = range-unit "=" range-set; the unit is case-insensitive (14.1).
  if (value.size() < 6 || !proxy::http::iequals(value.substr(0, 6), "bytes=")) {
    return RangeResult::kIgnore;
  }
  const std::string_view s = value.substr(6);
  size_t i = 0;
  size_t specs = 0;
  while (true) {
    while (i < s.size() && (detail::is_ws(s[i]) || s[i] == ',')) ++i;
    if (i == s.size()) break;
    if (++specs > kMaxRanges) return RangeResult::kIgnore;
    ByteRange r;
    bool satisfiable = false;
    if (s[i] == '-') {  // suffix-range
      ++i;
      uint64_t len = 0;
      if (!read_number(s, i, len)) return RangeResult::kIgnore;
      if (len > 0 && size > 0) {
        r.first = len >= size ? 0 : size - len;
        r.last = size - 1;
        satisfiable = true;
      }
    } else {  // int-range
      uint64_t first = 0, last = UINT64_MAX;
      if (!read_number(s, i, first)) return RangeResult::kIgnore;
      if (i >= s.size() || s[i] != '-') return RangeResult::kIgnore;
      ++i;
      if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        read_number(s, i, last);
        if (last < first) return RangeResult::kIgnore;  // 14.1.1: invalid
      }
      if (first < size) {
        r.first = first;
        r.last = last >= size ? size - 1 : last;
        satisfiable = true;
      }
    }
    while (i < s.size() && detail::is_ws(s[i])) ++i;
    if (i < s.size() && s[i] != ',') return RangeResult::kIgnore;
    if (!satisfiable) continue;
    // 14.2: overlapping ranges are a known abuse; refuse them rather than merge them.
    for (size_t k = 0; k < count; ++k)
      if (r.first <= out[k].last && out[k].first <= r.last) return RangeResult::kIgnore;
    out[count++] = r;
  }
  if (specs == 0) return RangeResult::kIgnore;
  return count == 0 ? RangeResult::kUnsatisfiable : RangeResult::kRanges;
}

bool if_range_holds(std::string_view if_range, const proxy::http::HeaderList& stored) {
  const std::string_view v = detail::trim(if_range);
  if (v.empty()) return false;
  if (v.front() == '"' || (v.size() >= 2 && v[0] == 'W' && v[1] == '/')) {
    EntityTag want, have;
    const auto* etag = stored.find("etag");
    return parse_etag(v, want) && etag && parse_etag(etag->value, have) && strong_match(want, have);
  }
  // 13.1.5: a date must exactly equal a strong Last-Modified (8.8.2.2: one second or more before
  // the Date of the response).
  const auto date = parse_http_date(v);
  const auto lm = detail::date_field(stored, "last-modified");
  const auto sent = detail::date_field(stored, "date");
  return date && lm && sent && *date == *lm && *lm + 1 <= *sent;
}

}  // namespace cache
