// SPDX-License-Identifier: MIT
// libFuzzer target for the cache's field parsers: Cache-Control (and a targeted field), the
// HTTP-date forms, Range and entity-tag lists. Input lines become header fields ("Name: value");
// invariants are checked on what is parsed.
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/http_date.h"
#include "cache/policy.h"
#include "cache/range.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool within(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_directives(const cache::Directives& d, std::string_view buf) {
  FUZZ_CHECK(within(d.no_cache_list, buf) && within(d.private_list, buf));
  FUZZ_CHECK(!d.private_fields || !d.private_list.empty());
  for (const auto& v :
       {d.max_age, d.s_maxage, d.stale_while_revalidate, d.stale_if_error, d.min_fresh})
    FUZZ_CHECK(!v || *v <= 2147483648u);
  FUZZ_CHECK(!d.max_stale || *d.max_stale <= 2147483648u || *d.max_stale == UINT32_MAX);
  if (d.max_age || d.s_maxage || d.no_store || d.private_ || d.public_) FUZZ_CHECK(d.any);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string_view buf(input);
  proxy::http::ResponseHead resp;
  resp.status = 200;
  size_t start = 0;
  while (start < buf.size()) {
    size_t end = buf.find('\n', start);
    if (end == std::string_view::npos) end = buf.size();
    const std::string_view line = buf.substr(start, end - start);
    start = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      resp.headers.push("Cache-Control", line);
    } else {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      resp.headers.push(line.substr(0, colon), value);
    }
  }

  check_directives(cache::parse_cache_control(resp.headers), buf);
  check_directives(cache::parse_cache_control(resp.headers, "cdn-cache-control"), buf);

  for (const auto& h : resp.headers) {
    if (const auto t = cache::parse_http_date(h.value)) {
      // Every accepted date is one IMF-fixdate can write and read back.
      const std::string s = cache::format_http_date(*t);
      FUZZ_CHECK(s.size() == cache::kHttpDateLength);
      FUZZ_CHECK(cache::parse_http_date(s) == *t);
    }
    cache::ByteRange ranges[cache::kMaxRanges];
    size_t count = 0;
    const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX};
    for (uint64_t sz : sizes) {
      const auto r = cache::parse_range(h.value, sz, ranges, count);
      FUZZ_CHECK(count <= cache::kMaxRanges);
      if (r == cache::RangeResult::kRanges) {
        FUZZ_CHECK(count > 0);
        for (size_t i = 0; i < count; ++i)
          FUZZ_CHECK(ranges[i].first <= ranges[i].last && ranges[i].last < sz);
      }
    }
    (void)cache::if_range_holds(h.value, resp.headers);
  }

  proxy::http::RequestHead req;
  req.method = proxy::http::Method::kGet;
  for (const auto& h : resp.headers) req.headers.push(h.name, h.value);
  const auto d = cache::decide_store(req, resp, 1000, 1001, cache::PolicyConfig{});
  FUZZ_CHECK(d.store || d.reason[0] != '\0');
  (void)cache::decide_reuse(d.freshness, req, 5000);
  (void)cache::evaluate_preconditions(req, resp.headers);
  std::string out;
  cache::merge_not_modified(resp.headers, resp.headers, out);
  cache::validators_for(resp.headers, out);
  std::string names;
  if (cache::vary_names(resp.headers, names)) cache::vary_values(names, req.headers, out);
  return 0;
}
