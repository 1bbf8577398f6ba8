// SPDX-License-Identifier: MIT
// Fuzzing helper: the chunked decoder must decode any input the same under any split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace proxy::http::fuzz {

struct ChunkedOutcome {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::kNeedMore;
  std::string data;
  size_t consumed = 0;
};

// Feeds `in` at once, or in pieces of 1 to 17 bytes drawn from `seed`, checking the feed()
// contract on the way.
inline ChunkedOutcome decode_chunked(std::string_view in, uint32_t seed, bool random_pieces) {
  using Status = ChunkedDecoder::Status;
  ChunkedDecoder dec(64, 256);
  ChunkedOutcome out;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t len = in.size() - pos;
    if (random_pieces) {
      seed = seed * 1103515245u + 12345u;
      const size_t want = (seed >> 16) % 17 + 1;
      if (want < len) len = want;
    }
    std::string_view piece = in.substr(pos, len);
    for (;;) {
      const ChunkedDecoder::Result r = dec.feed(piece);
      FUZZ_CHECK(r.consumed <= piece.size());
      pos += r.consumed;
      piece.remove_prefix(r.consumed);
      if (r.status == Status::kData) {
        FUZZ_CHECK(r.data_len > 0 && r.data_off + r.data_len == r.consumed);
        out.data.append(in.substr(pos - r.data_len, r.data_len));
        if (piece.empty()) break;
        continue;
      }
      if (r.status == Status::kNeedMore) {
        FUZZ_CHECK(piece.empty());
        break;
      }
      FUZZ_CHECK(dec.done() == (r.status == Status::kDone));
      out.status = r.status;
      out.consumed = pos;
      return out;
    }
  }
  out.consumed = pos;
  return out;
}

inline void check_chunked_splits(std::string_view in) {
  const ChunkedOutcome whole = decode_chunked(in, 0, false);
  const ChunkedOutcome split = decode_chunked(in, static_cast<uint32_t>(in.size()), true);
  FUZZ_CHECK(whole.status == split.status);
  FUZZ_CHECK(whole.data == split.data);
  FUZZ_CHECK(whole.consumed == split.consumed);
}

}  // namespace proxy::http::fuzz
