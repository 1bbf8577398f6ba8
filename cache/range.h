// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/http/headers.h"

namespace cache {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

enum class RangeResult {
  kIgnore,         // no Range, not "bytes", malformed, or too many: the whole 200 response
  kRanges,         // satisfiable ranges in |out| (206; several: multipart/byteranges)
  kUnsatisfiable,  // 416 with Content-Range: bytes */size
};

inline constexpr size_t kMaxRanges = 16;

// RFC 9110 14.2: the Range field |value| against a representation of |size| bytes. Overlapping
// or more than kMaxRanges ranges are refused as kIgnore (14.2's defence against abuse).
RangeResult parse_range(std::string_view value, uint64_t size, ByteRange (&out)[kMaxRanges],
                        size_t& count);

// RFC 9110 13.1.5: If-Range holds for the stored fields (strong ETag match, or a Last-Modified
// date that is strong): the ranges apply; else the whole representation is sent.
bool if_range_holds(std::string_view if_range, const proxy::http::HeaderList& stored);

}  // namespace cache
