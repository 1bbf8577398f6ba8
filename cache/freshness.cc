// SPDX-License-Identifier: MIT
// RFC 9111 4.2: freshness lifetime (4.2.1, heuristics 4.2.2) and age (4.2.3) of a response as it
// is received.
#include <algorithm>

#include "cache/http_date.h"
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache::detail {

using proxy::http::HeaderList;
using proxy::http::iequals;

namespace {
// RFC 9111 4.2.2 suggests 10% of the time since Last-Modified; gatehouse caps it at a day.
constexpr int64_t kHeuristicCap = 86400;
}  // namespace

std::optional<uint32_t> parse_delta_seconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > kDeltaMax) v = kDeltaMax;
  }
  return static_cast<uint32_t>(v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<UnixTime> date_field(const HeaderList& h, std::string_view name, bool* present) {
  const auto* f = h.find(name);
  if (present) *present = f != nullptr;
  if (!f) return std::nullopt;
  return parse_http_date(f->value);
}

uint32_t age_value(const HeaderList& h) {
  const auto* f = h.find("age");
  if (!f) return 0;
  std::string_view v = f->value;
  if (const size_t comma = v.find(','); comma != std::string_view::npos) v = v.substr(0, comma);
  return parse_delta_seconds(trim(v)).value_or(0);
}

Directives governing_directives(const HeaderList& h, std::string_view targeted_header,
                                bool& targeted) {
  if (!targeted_header.empty()) {
    Directives t = parse_targeted_cache_control(h, targeted_header);
    if (t.any) {
      targeted = true;
      return t;
    }
  }
  targeted = false;
  return parse_cache_control(h);
}

bool has_explicit_freshness(const HeaderList& h, const Directives& cc, bool targeted) {
  if (cc.s_maxage || cc.s_maxage_invalid || cc.max_age || cc.max_age_invalid) return true;
  return !targeted && h.find("expires") != nullptr;
}

namespace {

// 4.2.1: the explicit lifetime (s-maxage, max-age, Expires - Date), or nullopt if none is
// given. An invalid one (a broken or conflicting max-age, an Expires that is not a date, an
// Expires with a broken Date) gives 0: stale.
std::optional<int64_t> explicit_lifetime(const HeaderList& h, const Directives& cc, bool targeted,
                                         UnixTime response_time) {
  if (cc.s_maxage_invalid) return 0;
  if (cc.s_maxage) return *cc.s_maxage;
  if (cc.max_age_invalid) return 0;
  if (cc.max_age) return *cc.max_age;
  if (targeted) return std::nullopt;  // RFC 9213 2.1: Expires is ignored with the targeted field
  bool expires_present = false;
  const auto expires = date_field(h, "expires", &expires_present);
  if (!expires_present) return std::nullopt;
  if (!expires || h.count("expires") > 1) return 0;
  bool date_present = false;
  const auto date = date_field(h, "date", &date_present);
  if (date_present && !date) return 0;
  return *expires - date.value_or(response_time);
}

// 4.2.2: 10% of the time since Last-Modified, for the heuristically cacheable statuses or an
// explicitly cacheable (public) response; nullopt if no heuristic applies.
std::optional<int64_t> heuristic_lifetime(const proxy::http::ResponseHead& resp,
                                          const Directives& cc, UnixTime date) {
  if (!heuristically_cacheable(resp.status) && !cc.public_) return std::nullopt;
  const auto lm = date_field(resp.headers, "last-modified");
  if (!lm || *lm > date) return std::nullopt;
  return std::min<int64_t>((date - *lm) / 10, kHeuristicCap);
}

}  // namespace

Freshness compute_freshness(const proxy::http::ResponseHead& resp, const Directives& cc,
                            bool targeted, UnixTime request_time, UnixTime response_time,
                            const PolicyConfig& config) {
  const HeaderList& h = resp.headers;
  Freshness f;
  f.response_time = response_time;

  // 4.2.3
  const UnixTime date = date_field(h, "date").value_or(response_time);
  const int64_t apparent_age = std::max<int64_t>(0, response_time - date);
  const int64_t response_delay = std::max<int64_t>(0, response_time - request_time);
  const int64_t corrected_age_value = static_cast<int64_t>(age_value(h)) + response_delay;
  f.corrected_initial_age = std::max(apparent_age, corrected_age_value);

  if (config.ttl) {
    f.lifetime = *config.ttl;
  } else if (const auto life = explicit_lifetime(h, cc, targeted, response_time)) {
    f.lifetime = *life;
  } else if (const auto heur = heuristic_lifetime(resp, cc, date)) {
    f.lifetime = *heur;
    f.heuristic = true;
  }

  f.no_cache = cc.no_cache;
  f.must_revalidate = cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage.has_value();
  // 4.2.4: no stale serving where the origin forbids it. s-maxage implies proxy-revalidate, so
  // only an explicit stale-* directive (RFC 5861) next to it allows stale serving; the operator's
  // defaults apply only where nothing says otherwise.
  const bool forbidden = cc.no_cache || cc.must_revalidate || cc.proxy_revalidate;
  if (!forbidden) {
    const bool defaults = !f.must_revalidate;
    f.stale_while_revalidate =
        cc.stale_while_revalidate.value_or(defaults ? config.stale_while_revalidate : 0);
    f.stale_if_error = cc.stale_if_error.value_or(defaults ? config.stale_if_error : 0);
  }
  return f;
}

}  // namespace cache::detail
