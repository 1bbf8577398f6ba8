// SPDX-License-Identifier: MIT
#include "conf/units.h"

#include <doctest/doctest.h>

using namespace conf;

TEST_CASE("durations take ms, s, m, h and d") {
  CHECK(*parse_duration("250ms") == Duration(250));
  CHECK(*parse_duration("10s") == Duration(10'000));
  CHECK(*parse_duration("5m") == Duration(300'000));
  CHECK(*parse_duration("1h") == Duration(3'600'000));
  CHECK(*parse_duration("1d") == Duration(86'400'000));
  CHECK(*parse_duration("0s") == Duration(0));
}

TEST_CASE("a duration without a unit is refused, saying a unit is required") {
  auto d = parse_duration("10");
  REQUIRE(!d);
  CHECK(d.error() == "a duration like 10s, got \"10\": a unit is required (ms, s, m, h or d)");
}

TEST_CASE("malformed durations are refused") {
  for (const char* bad : {"", "s", "10 s", "1.5s", "10sec", "10S", "1m30s", "+5s", "ten seconds"})
    CHECK_MESSAGE(!parse_duration(bad), bad);
  CHECK(parse_duration("-5s").error().ends_with("a duration cannot be negative"));
  CHECK(parse_duration("10sec").error().ends_with("unknown unit \"sec\" (use ms, s, m, h or d)"));
}

TEST_CASE("a duration too large for milliseconds in 64 bits is refused") {
  CHECK(parse_duration("106751991168d").error().ends_with("too large"));
  CHECK(parse_duration("99999999999999999999999s").error().ends_with("too large"));
  CHECK(parse_duration("106751991167d"));
}

TEST_CASE("sizes are bytes or powers of 1024") {
  CHECK(*parse_size("0") == 0);
  CHECK(*parse_size("512") == 512);
  CHECK(*parse_size("16KiB") == 16 * 1024);
  CHECK(*parse_size("256MiB") == 256ull << 20);
  CHECK(*parse_size("10GiB") == 10ull << 30);
  CHECK(*parse_size("2TiB") == 2ull << 40);
}

TEST_CASE("decimal and unknown size units are refused, naming the binary ones") {
  for (const char* bad : {"16KB", "1MB", "1G", "1k", "16kib", "1.5GiB", "", "KiB", "1 KiB"})
    CHECK_MESSAGE(!parse_size(bad), bad);
  CHECK(parse_size("16KB").error() ==
        "a size like 512, 16KiB or 256MiB, got \"16KB\": unknown unit \"KB\" (use KiB, MiB, GiB "
        "or TiB, powers of 1024, or no unit for bytes)");
}

TEST_CASE("negative and overflowing sizes are refused") {
  CHECK(parse_size("-1").error().ends_with("a size cannot be negative"));
  CHECK(parse_size("16777216TiB").error().ends_with("too large"));
  CHECK(parse_size("18446744073709551616").error().ends_with("too large"));
  CHECK(*parse_size("18446744073709551615") == 18446744073709551615ull);
}

TEST_CASE("rates are events per second or per minute") {
  CHECK(*parse_rate("20/s") == doctest::Approx(20));
  CHECK(*parse_rate("30/m") == doctest::Approx(0.5));
  for (const char* bad : {"20", "20/h", "0/s", "-1/s", "/s", "1.5/s", "20/ s"})
    CHECK_MESSAGE(!parse_rate(bad), bad);
}

TEST_CASE("plain numbers are unsigned decimal integers") {
  CHECK(*parse_uint("0") == 0);
  CHECK(*parse_uint("42") == 42);
  CHECK(!parse_uint("-1"));
  CHECK(!parse_uint("+1"));
  CHECK(!parse_uint("0x10"));
  CHECK(!parse_uint(""));
  CHECK(!parse_uint("99999999999999999999"));
}
