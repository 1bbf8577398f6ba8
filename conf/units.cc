// SPDX-License-Identifier: MIT
#include "conf/units.h"
#include "conf/quote.h"

#include <charconv>
#include <limits>

namespace conf {
namespace {

using proxy::base::unexpected;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Splits "123unit" into its digits and the rest.
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  return {text.substr(0, i), text.substr(i)};
}

}  // namespace

Parsed<uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) return unexpected(std::string("a number, got nothing"));
  if (text[0] == '-') return unexpected("a number that is not negative, got " + quoted(text));
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range)
    return unexpected("a smaller number, got " + quoted(text) + " (too large)");
  if (ec != std::errc() || end != text.data() + text.size())
    return unexpected("a whole number, got " + quoted(text));
  return v;
}

Parsed<Duration> parse_duration(std::string_view text) {
  const std::string like = "a duration like 10s, got " + quoted(text);
  if (text.empty()) return unexpected(std::string("a duration like 10s, got nothing"));
  if (text[0] == '-') return unexpected(like + ": a duration cannot be negative");
  auto [digits, unit] = split_number(text);
  if (digits.empty()) return unexpected(like);
  if (unit.empty()) return unexpected(like + ": a unit is required (ms, s, m, h or d)");
  int64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60 * 1000;
  else if (unit == "h")
    ms_per_unit = 60 * 60 * 1000;
  else if (unit == "d")
    ms_per_unit = 24 * 60 * 60 * 1000;
  else
    return unexpected(like + ": unknown unit " + quoted(unit) + " (use ms, s, m, h or d)");
  auto n = parse_uint(digits);
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!n || *n > kMax / static_cast<uint64_t>(ms_per_unit)) return unexpected(like + ": too large");
  return Duration(static_cast<int64_t>(*n) * ms_per_unit);
}

Parsed<uint64_t> parse_size(std::string_view text) {
  const std::string like = "a size like 512, 16KiB or 256MiB, got " + quoted(text);
  if (text.empty()) return unexpected(std::string("a size like 512, 16KiB or 256MiB, got nothing"));
  if (text[0] == '-') return unexpected(like + ": a size cannot be negative");
  auto [digits, unit] = split_number(text);
  if (digits.empty()) return unexpected(like);
  uint64_t mult = 1;
  if (unit.empty())
    mult = 1;
  else if (unit == "KiB")
    mult = KiB;
  else if (unit == "MiB")
    mult = MiB;
  else if (unit == "GiB")
    mult = GiB;
  else if (unit == "TiB")
    mult = 1024 * GiB;
  else
    return unexpected(like + ": unknown unit " + quoted(unit) +
                      " (use KiB, MiB, GiB or TiB, powers of 1024, or no unit for bytes)");
  auto n = parse_uint(digits);
  if (!n || *n > std::numeric_limits<uint64_t>::max() / mult)
    return unexpected(like + ": too large");
  return *n * mult;
}

Parsed<double> parse_rate(std::string_view text) {
  const std::string like = "a rate like 20/s or 600/m, got " + quoted(text);
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return unexpected(like);
  auto per = text.substr(slash + 1);
  double seconds = 0;
  if (per == "s")
    seconds = 1;
  else if (per == "m")
    seconds = 60;
  else
    return unexpected(like + ": the period must be s or m");
  auto n = parse_uint(text.substr(0, slash));
  if (!n) return unexpected(like);
  if (*n == 0) return unexpected(like + ": the rate must be more than 0");
  return static_cast<double>(*n) / seconds;
}

}  // namespace conf
