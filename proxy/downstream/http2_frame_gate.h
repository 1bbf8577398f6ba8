// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxy {

// Follows the frames a client sends (RFC 9113 4.1) just ahead of nghttp2, for the checks
// nghttp2 leaves out on a server without RFC 7540 priorities and without closed-stream memory:
// frames on closed streams (5.1), stream ids below the highest one used (5.1.1), and PRIORITY
// frames on stream 0 (6.3) or depending on their own stream (5.3.1), which nghttp2 then skips
// unread. Pure: bytes in, frame heads out; what to answer is the connection's business.
class FrameGate {
 public:
  struct Frame {
    uint32_t length = 0;
    uint8_t type = 0;
    uint8_t flags = 0;
    int32_t stream_id = 0;
    int32_t depends_on = -1;  // PRIORITY (with the usual 5-byte payload) only
    // A client stream id at or below the highest one a HEADERS frame has used so far: not new.
    bool used_id = false;
  };

  static constexpr size_t kPrefaceLen = 24;
  static constexpr uint8_t kData = 0x0;
  static constexpr uint8_t kHeaders = 0x1;
  static constexpr uint8_t kPriority = 0x2;

  // Consumes |data| up to and including the next frame head worth a look (DATA, HEADERS, and
  // PRIORITY with its payload), or all of it. Returns the bytes consumed; *|frame| is set and
  // *|got| true when such a head was completed. The first kPrefaceLen bytes (the client's
  // preface, nghttp2 checks it) are skipped.
  size_t scan(const uint8_t* data, size_t len, Frame* frame, bool* got);

  int32_t highest_stream() const { return highest_; }

 private:
  uint64_t skip_ = kPrefaceLen;  // bytes of a payload (or the preface) still to pass over
  uint8_t head_[14] = {};        // a frame head, plus a PRIORITY payload
  size_t have_ = 0;
  size_t need_ = 9;
  int32_t highest_ = 0;
};

// The client streams closed last, and how: what a later frame on one of them deserves
// (RFC 9113 5.1). A bounded ring; a stream closed longer ago is forgotten.
class ClosedStreams {
 public:
  enum class How : uint8_t { kUnknown, kEnded, kClientReset, kWeReset };

  // Records |id| unless it is already there (the first cause wins: a reset we sent stays ours).
  void add(int32_t id, How how);
  How find(int32_t id) const;

 private:
  static constexpr size_t kSize = 256;  // twice the streams a client may have open at once
  int32_t ids_[kSize] = {};
  How how_[kSize] = {};
  size_t next_ = 0;
};

}  // namespace proxy
