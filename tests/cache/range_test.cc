// SPDX-License-Identifier: MIT
// RFC 9110 14: Range requests answered from a complete stored representation.
#include "cache/range.h"

#include <doctest/doctest.h>

#include <vector>

#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;

namespace {

struct Parsed {
  RangeResult result;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
};

Parsed parse(std::string_view value, uint64_t size) {
  ByteRange out[kMaxRanges];
  size_t count = 99;
  Parsed p{parse_range(value, size, out, count), {}};
  for (size_t i = 0; i < count; ++i) p.ranges.emplace_back(out[i].first, out[i].last);
  return p;
}

using R = std::vector<std::pair<uint64_t, uint64_t>>;

}  // namespace

TEST_CASE("RFC 9110 14.1.2: first-last, first- and -suffix ranges") {
  CHECK(parse("bytes=0-499", 1000).ranges == R{{0, 499}});
  CHECK(parse("bytes=500-", 1000).ranges == R{{500, 999}});
  CHECK(parse("bytes=-200", 1000).ranges == R{{800, 999}});
  CHECK(parse("bytes=0-0", 1000).ranges == R{{0, 0}});
  CHECK(parse("bytes=0-499", 1000).result == RangeResult::kRanges);
}

TEST_CASE("RFC 9110 14.1.2: a last-pos past the end is clamped; a long suffix is the whole") {
  CHECK(parse("bytes=900-5000", 1000).ranges == R{{900, 999}});
  CHECK(parse("bytes=-5000", 1000).ranges == R{{0, 999}});
  CHECK(parse("bytes=0-99999999999999999999999", 10).ranges == R{{0, 9}});
}

TEST_CASE("RFC 9110 14.1.2: several ranges, with optional whitespace and empty elements") {
  CHECK(parse("bytes=0-9, 20-29,-5", 100).ranges == R{{0, 9}, {20, 29}, {95, 99}});
  CHECK(parse("bytes= 0-9 ,, 20-29 ", 100).ranges == R{{0, 9}, {20, 29}});
  CHECK(parse("bytes=10-19,0-9", 100).ranges == R{{10, 19}, {0, 9}});  // adjacent, no overlap
}

TEST_CASE("RFC 9110 14.1: the range unit is case-insensitive") {
  CHECK(parse("Bytes=0-1", 10).result == RangeResult::kRanges);
  CHECK(parse("BYTES=0-1", 10).result == RangeResult::kRanges);
}

TEST_CASE("RFC 9110 14.2: a malformed Range is ignored") {
  for (const char* v : {"", "bytes", "bytes=", "bytes=,", "items=0-1", "bytes=a-b", "bytes=1",
                        "bytes=--1", "bytes=5-1", "bytes=0-1;x", "bytes=1-2-3", "bytes = 0-1",
                        "bytes=-", "bytes=0-1,x", "bytes=0x10-"}) {
    CAPTURE(v);
    CHECK(parse(v, 100).result == RangeResult::kIgnore);
  }
}

TEST_CASE("RFC 9110 14.1.1: a first-pos beyond the representation is unsatisfiable") {
  CHECK(parse("bytes=1000-", 1000).result == RangeResult::kUnsatisfiable);
  CHECK(parse("bytes=1000-2000, 3000-", 1000).result == RangeResult::kUnsatisfiable);
  CHECK(parse("bytes=-0", 1000).result == RangeResult::kUnsatisfiable);
  CHECK(parse("bytes=0-", 0).result == RangeResult::kUnsatisfiable);
}

TEST_CASE("RFC 9110 14.1.1: unsatisfiable ranges beside satisfiable ones are dropped") {
  const auto p = parse("bytes=2000-3000, 0-9", 1000);
  CHECK(p.result == RangeResult::kRanges);
  CHECK(p.ranges == R{{0, 9}});
}

TEST_CASE("RFC 9110 14.2: overlapping ranges are refused as a whole") {
  CHECK(parse("bytes=0-10, 5-20", 100).result == RangeResult::kIgnore);
  CHECK(parse("bytes=0-, -10", 100).result == RangeResult::kIgnore);
  CHECK(parse("bytes=0-9, 0-9", 100).result == RangeResult::kIgnore);
}

TEST_CASE("RFC 9110 14.2: more than kMaxRanges ranges are refused") {
  std::string v = "bytes=";
  for (size_t i = 0; i <= kMaxRanges; ++i)
    v += std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1) + ",";
  CHECK(parse(v, 10000).result == RangeResult::kIgnore);
  std::string ok = "bytes=";
  for (size_t i = 0; i < kMaxRanges; ++i)
    ok += std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1) + ",";
  CHECK(parse(ok, 10000).ranges.size() == kMaxRanges);
}

TEST_CASE("RFC 9110 13.1.5: If-Range with an entity-tag needs a strong match") {
  Headers stored({{"ETag", "\"v1\""}});
  CHECK(if_range_holds("\"v1\"", stored.list));
  CHECK_FALSE(if_range_holds("\"v2\"", stored.list));
  CHECK_FALSE(if_range_holds("W/\"v1\"", stored.list));
  Headers weak({{"ETag", "W/\"v1\""}});
  CHECK_FALSE(if_range_holds("\"v1\"", weak.list));
  Headers none;
  CHECK_FALSE(if_range_holds("\"v1\"", none.list));
}

TEST_CASE("RFC 9110 13.1.5: If-Range with a date needs an exact, strong Last-Modified") {
  const std::string lm = date(kNow - 100);
  Headers stored({{"Last-Modified", lm}, {"Date", date(kNow)}});
  CHECK(if_range_holds(lm, stored.list));
  CHECK_FALSE(if_range_holds(date(kNow - 50), stored.list));
  CHECK_FALSE(if_range_holds("not a date", stored.list));
  Headers same_second({{"Last-Modified", lm}, {"Date", lm}});
  CHECK_FALSE(if_range_holds(lm, same_second.list));  // 8.8.2.2: weak
  Headers no_date({{"Last-Modified", lm}});
  CHECK_FALSE(if_range_holds(lm, no_date.list));
}
