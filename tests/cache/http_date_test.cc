// SPDX-License-Identifier: MIT
#include "cache/http_date.h"

#include <doctest/doctest.h>

using cache::format_http_date;
using cache::parse_http_date;

namespace {
constexpr cache::UnixTime k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
}

TEST_CASE("RFC 9110 5.6.7: the three HTTP-date forms name the same instant") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == k1994);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == k1994);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == k1994);
}

TEST_CASE("RFC 9110 5.6.7: the epoch and dates around leap days") {
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT") == 951825600);
  CHECK(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT") == 253402300799);
  CHECK_FALSE(parse_http_date("Mon, 29 Feb 2100 00:00:00 GMT"));  // 2100 is no leap year
  CHECK_FALSE(parse_http_date("Thu, 31 Apr 2020 00:00:00 GMT"));
}

TEST_CASE("RFC 9110 5.6.7: an RFC 850 two-digit year below 70 is in the 2000s") {
  CHECK(parse_http_date("Thursday, 18-Aug-50 02:01:18 GMT") ==
        parse_http_date("Thu, 18 Aug 2050 02:01:18 GMT"));
  CHECK(parse_http_date("Friday, 01-Jan-99 00:00:00 GMT") ==
        parse_http_date("Fri, 01 Jan 1999 00:00:00 GMT"));
}

TEST_CASE("RFC 9110 5.6.7: anything that is not an HTTP-date is invalid") {
  for (const char* bad : {"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun 06 Nov 1994 08:49:37 GMT", "Sun, 06  Nov 1994 08:49:37 GMT",
                          "Sun, 06-Nov-1994 08:49:37 GMT", "Sun, 06 Nov 1994 08.49.37 GMT",
                          "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMTx", "Xyz, 06 Nov 1994 08:49:37 GMT"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_http_date(bad));
  }
}

TEST_CASE("RFC 9110 5.6.7: names are read case-insensitively, surrounding whitespace ignored") {
  CHECK(parse_http_date("THU, 18 AUG 2050 02:01:18 gmt") ==
        parse_http_date("Thu, 18 Aug 2050 02:01:18 GMT"));
  CHECK(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT ") == k1994);
}

TEST_CASE("RFC 9110 5.6.7: IMF-fixdate is generated, and reads back") {
  CHECK(format_http_date(k1994) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(951825600) == "Tue, 29 Feb 2000 12:00:00 GMT");
  CHECK(format_http_date(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
  for (cache::UnixTime t : {cache::UnixTime{0}, cache::UnixTime{1700000000},
                            cache::UnixTime{4102444799}, cache::UnixTime{-86400 * 365}}) {
    CAPTURE(t);
    CHECK(parse_http_date(format_http_date(t)) == t);
  }
  char buf[cache::kHttpDateLength];
  CHECK(format_http_date(k1994, buf) == cache::kHttpDateLength);
}
