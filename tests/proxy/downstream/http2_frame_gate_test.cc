// SPDX-License-Identifier: MIT
// FrameGate and ClosedStreams: the frame heads an HTTP/2 client sends, found in any split of its
// bytes, and what is remembered of closed streams.
#include "proxy/downstream/http2_frame_gate.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using proxy::ClosedStreams;
using proxy::FrameGate;

namespace {

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  const uint32_t n = static_cast<uint32_t>(payload.size());
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int i = 3; i >= 0; --i) f += static_cast<char>(stream >> (8 * i));
  return f + payload;
}

std::string priority(uint32_t stream, uint32_t depends_on) {
  std::string p;
  for (int i = 3; i >= 0; --i) p += static_cast<char>(depends_on >> (8 * i));
  p += '\x10';  // weight
  return frame(FrameGate::kPriority, 0, stream, p);
}

// Feeds |bytes| in pieces of |step| (the last may be shorter); returns the frames reported and
// checks each report ends right after its head.
std::vector<FrameGate::Frame> scan_all(FrameGate& g, const std::string& bytes, size_t step) {
  std::vector<FrameGate::Frame> out;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t piece = bytes.size() - pos < step ? bytes.size() - pos : step;
    size_t off = 0;
    while (off < piece) {
      FrameGate::Frame f;
      bool got = false;
      const size_t n = g.scan(p + pos + off, piece - off, &f, &got);
      REQUIRE(n > 0);
      off += n;
      if (got) out.push_back(f);
    }
    pos += piece;
  }
  return out;
}

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

TEST_CASE("the gate reports DATA, HEADERS and PRIORITY heads in any split of the bytes") {
  const std::string bytes = kPreface + frame(0x4, 0, 0, std::string(12, 's')) +  // SETTINGS
                            frame(FrameGate::kHeaders, 0x4, 1, "abc") +
                            frame(FrameGate::kData, 0x1, 1, std::string(1000, 'd')) +
                            priority(3, 3) + frame(0x6, 0, 0, std::string(8, 'p')) +  // PING
                            priority(0, 1) + frame(FrameGate::kHeaders, 0x5, 5, "x") +
                            frame(FrameGate::kHeaders, 0x5, 3, "y") +
                            frame(FrameGate::kPriority, 0, 7, "123");  // wrong length
  for (size_t step : {size_t{1}, size_t{5}, size_t{9}, size_t{64}, bytes.size()}) {
    CAPTURE(step);
    FrameGate g;
    const auto frames = scan_all(g, bytes, step);
    REQUIRE(frames.size() == 7);
    CHECK(
        (frames[0].type == FrameGate::kHeaders && frames[0].stream_id == 1 && !frames[0].used_id));
    CHECK((frames[1].type == FrameGate::kData && frames[1].stream_id == 1 &&
           frames[1].length == 1000 && frames[1].used_id));
    CHECK((frames[2].type == FrameGate::kPriority && frames[2].stream_id == 3 &&
           frames[2].depends_on == 3));
    CHECK((frames[3].stream_id == 0 && frames[3].depends_on == 1));
    CHECK((frames[4].stream_id == 5 && !frames[4].used_id));
    CHECK((frames[5].stream_id == 3 && frames[5].used_id));  // below 5: not a new stream
    CHECK((frames[6].type == FrameGate::kPriority && frames[6].depends_on == -1));
    CHECK(g.highest_stream() == 5);
  }
}

TEST_CASE("closed streams remember the first cause, and only the last ones") {
  ClosedStreams c;
  c.add(1, ClosedStreams::How::kWeReset);
  c.add(1, ClosedStreams::How::kEnded);
  c.add(3, ClosedStreams::How::kClientReset);
  CHECK(c.find(1) == ClosedStreams::How::kWeReset);
  CHECK(c.find(3) == ClosedStreams::How::kClientReset);
  CHECK(c.find(5) == ClosedStreams::How::kUnknown);
  CHECK(c.find(0) == ClosedStreams::How::kUnknown);
  for (int32_t id = 5; id < 5 + 2 * 300; id += 2) c.add(id, ClosedStreams::How::kEnded);
  CHECK(c.find(1) == ClosedStreams::How::kUnknown);  // forgotten
  CHECK(c.find(5 + 2 * 299) == ClosedStreams::How::kEnded);
}
