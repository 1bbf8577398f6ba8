// SPDX-License-Identifier: MIT
#include "proxy/downstream/http2_frame_gate.h"

#include <cstring>

namespace proxy {
namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

size_t FrameGate::scan(const uint8_t* data, size_t len, Frame* frame, bool* got) {
  *got = false;
  size_t pos = 0;
  while (pos < len) {
    if (skip_ > 0) {
      const size_t take = len - pos < skip_ ? len - pos : static_cast<size_t>(skip_);
      skip_ -= take;
      pos += take;
      continue;
    }
    const size_t take = len - pos < need_ - have_ ? len - pos : need_ - have_;
    memcpy(head_ + have_, data + pos, take);
    have_ += take;
    pos += take;
    if (have_ < need_) break;
    const uint32_t length = (uint32_t{head_[0]} << 16) | (uint32_t{head_[1]} << 8) | head_[2];
    const uint8_t type = head_[3];
    if (need_ == 9 && type == kPriority && length == 5) {
      need_ = 14;  // the dependency too
      continue;
    }
    Frame f;
    f.length = length;
    f.type = type;
    f.flags = head_[4];
    f.stream_id = static_cast<int32_t>(be32(head_ + 5) & 0x7fffffffu);
    if (need_ == 14) f.depends_on = static_cast<int32_t>(be32(head_ + 9) & 0x7fffffffu);
    skip_ = length - (need_ - 9);
    have_ = 0;
    need_ = 9;
    if (type != kData && type != kHeaders && type != kPriority) continue;
    const bool client_id = (f.stream_id & 1) != 0;
    f.used_id = client_id && f.stream_id <= highest_;
    if (type == kHeaders && client_id && f.stream_id > highest_) highest_ = f.stream_id;
    *frame = f;
    *got = true;
    return pos;
  }
  return pos;
}

void ClosedStreams::add(int32_t id, How how) {
  if (find(id) != How::kUnknown) return;
  ids_[next_] = id;
  how_[next_] = how;
  next_ = (next_ + 1) % kSize;
}

ClosedStreams::How ClosedStreams::find(int32_t id) const {
  if (id == 0) return How::kUnknown;
  for (size_t i = 0; i < kSize; ++i)
    if (ids_[i] == id) return how_[i];
  return How::kUnknown;
}

}  // namespace proxy
