// SPDX-License-Identifier: MIT
#include "cache/http_date.h"

#include <cstdint>

namespace cache {
namespace {

constexpr const char* kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kLen[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kLen[m - 1];
}

// A cursor over the date text; each reader consumes exactly its grammar or fails.
struct Reader {
  std::string_view s;
  size_t i = 0;
  bool ok = true;

  bool at_end() const { return i == s.size(); }
  void lit(char c) {
    if (ok && i < s.size() && s[i] == c) {
      ++i;
    } else {
      ok = false;
    }
  }
  // Exactly |n| digits.
  int digits(size_t n) {
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!ok || i >= s.size() || s[i] < '0' || s[i] > '9') {
        ok = false;
        return 0;
      }
      v = v * 10 + (s[i++] - '0');
    }
    return v;
  }
  // One of |names| (case-insensitive), each |len| long or given by strlen; returns its index.
  int name(const char* const* names, int count) {
    if (!ok) return -1;
    for (int k = 0; k < count; ++k) {
      const std::string_view n(names[k]);
      if (s.size() - i >= n.size() && ieq(s.substr(i, n.size()), n)) {
        i += n.size();
        return k;
      }
    }
    ok = false;
    return -1;
  }
  void time(int& h, int& m, int& sec) {
    h = digits(2);
    lit(':');
    m = digits(2);
    lit(':');
    sec = digits(2);
  }
  void gmt() {
    if (ok && s.size() - i >= 3 && ieq(s.substr(i, 3), "GMT")) {
      i += 3;
    } else {
      ok = false;
    }
  }
};

std::optional<UnixTime> to_unix(int64_t y, int mon, int d, int h, int m, int s) {
  if (mon < 1 || mon > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, mon) || h > 23 ||
      m > 59 || s > 60)  // 60: a leap second, read as the next second's start
    return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(mon), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + m * 60 + s;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<UnixTime> imf_fixdate(std::string_view text) {
  Reader r{text};
  r.name(kDays, 7);
  r.lit(',');
  r.lit(' ');
  const int d = r.digits(2);
  r.lit(' ');
  const int mon = r.name(kMonths, 12) + 1;
  r.lit(' ');
  const int y = r.digits(4);
  r.lit(' ');
  int h, m, s;
  r.time(h, m, s);
  r.lit(' ');
  r.gmt();
  if (!r.ok || !r.at_end()) return std::nullopt;
  return to_unix(y, mon, d, h, m, s);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<UnixTime> rfc850_date(std::string_view text) {
  Reader r{text};
  r.name(kLongDays, 7);
  r.lit(',');
  r.lit(' ');
  const int d = r.digits(2);
  r.lit('-');
  const int mon = r.name(kMonths, 12) + 1;
  r.lit('-');
  const int yy = r.digits(2);
  r.lit(' ');
  int h, m, s;
  r.time(h, m, s);
  r.lit(' ');
  r.gmt();
  if (!r.ok || !r.at_end()) return std::nullopt;
  return to_unix(yy < 70 ? 2000 + yy : 1900 + yy, mon, d, h, m, s);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<UnixTime> asctime_date(std::string_view text) {
  Reader r{text};
  r.name(kDays, 7);
  r.lit(' ');
  const int mon = r.name(kMonths, 12) + 1;
  r.lit(' ');
  int d = 0;
  if (r.ok && r.i < text.size() && text[r.i] == ' ') {
    ++r.i;
    d = r.digits(1);
  } else {
    d = r.digits(2);
  }
  r.lit(' ');
  int h, m, s;
  r.time(h, m, s);
  r.lit(' ');
  const int y = r.digits(4);
  if (!r.ok || !r.at_end()) return std::nullopt;
  return to_unix(y, mon, d, h, m, s);
}

}  // namespace

std::optional<UnixTime> parse_http_date(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() < 4) return std::nullopt;
  if (text[3] == ',') return imf_fixdate(text);
  if (text[3] == ' ') return asctime_date(text);
  return rfc850_date(text);
}

size_t format_http_date(UnixTime t, char* out) {
  constexpr int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (t < kMin) t = kMin;
  if (t > kMax) t = kMax;
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const int64_t secs = t - days * 86400;
  const auto weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  // civil_from_days (H. Hinnant).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);

  auto put2 = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  const char* wd = kDays[weekday];
  const char* mn = kMonths[m - 1];
  char* p = out;
  *p++ = wd[0], *p++ = wd[1], *p++ = wd[2], *p++ = ',', *p++ = ' ';
  put2(p, d), p += 2, *p++ = ' ';
  *p++ = mn[0], *p++ = mn[1], *p++ = mn[2], *p++ = ' ';
  const auto year = static_cast<unsigned>(y);
  put2(p, year / 100), put2(p + 2, year % 100), p += 4, *p++ = ' ';
  const auto sec = static_cast<unsigned>(secs);
  put2(p, sec / 3600), p += 2, *p++ = ':';
  put2(p, sec / 60 % 60), p += 2, *p++ = ':';
  put2(p, sec % 60), p += 2, *p++ = ' ';
  *p++ = 'G', *p++ = 'M', *p++ = 'T';
  return static_cast<size_t>(p - out);
}

std::string format_http_date(UnixTime t) {
  std::string s(kHttpDateLength, '\0');
  format_http_date(t, s.data());
  return s;
}

}  // namespace cache
