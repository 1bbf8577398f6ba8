// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "proxy/base/expected.h"

// The value syntaxes of a config file. Each parser takes the whole scalar text and either returns
// the value or a message that completes "expected ..., got ...", ready to show an operator.
namespace conf {

template <class T>
using Parsed = proxy::base::Expected<T, std::string>;

// "250ms", "10s", "5m", "1h", "1d": a non-negative whole number and a unit, which is required.
// Zero is returned as zero; callers decide whether it is meaningful.
Parsed<Duration> parse_duration(std::string_view text);

// "512" (bytes), "16KiB", "256MiB", "10GiB", "1TiB": powers of 1024 only; decimal units (KB, MB)
// are refused rather than guessed at.
Parsed<uint64_t> parse_size(std::string_view text);

// "20/s" or "600/m": a positive whole number of events per second or per minute, returned as a
// rate per second.
Parsed<double> parse_rate(std::string_view text);

// A non-negative decimal integer with no sign or spaces that fits in 64 bits.
Parsed<uint64_t> parse_uint(std::string_view text);

}  // namespace conf
