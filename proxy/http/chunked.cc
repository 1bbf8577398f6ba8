// SPDX-License-Identifier: MIT
// The chunked transfer coding (RFC 9112 7.1), one byte of framing at a time so that any split of
// the input decodes the same.
#include "proxy/http/char_class.h"
#include "proxy/http/parser.h"

namespace proxy::http {

namespace {
constexpr size_t kMaxSizeDigits = 16;  // 64 bits, leading zeros aside
}  // namespace

ChunkedDecoder::Result ChunkedDecoder::fail(const char* why, size_t consumed) {
  state_ = State::kError;
  error_ = why;
  return {Status::kError, consumed, 0, 0};
}

ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view in) {
  size_t i = 0;
  while (i < in.size()) {
    if (state_ == State::kData) {
      const size_t avail = in.size() - i;
      const size_t take = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::kDataCr;
      return {Status::kData, i + take, i, take};
    }
    if (state_ == State::kDone) return {Status::kDone, i, 0, 0};
    if (state_ == State::kError) return {Status::kError, i, 0, 0};
    if (!step(in[i])) return fail(error_, i);
    ++i;
  }
  if (state_ == State::kDone) return {Status::kDone, i, 0, 0};
  if (state_ == State::kError) return {Status::kError, i, 0, 0};
  return {Status::kNeedMore, i, 0, 0};
}

// chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// chunk-ext  = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
// last-chunk = 1*"0" [ chunk-ext ] CRLF, then trailer-section CRLF
bool ChunkedDecoder::step(char c) {
  auto bad = [this](const char* why) {
    error_ = why;
    return false;
  };
  if (state_ <= State::kSizeLf) {
    if (c != '\r' && c != '\n' && ++line_len_ > max_line_) return bad("chunk size line too long");
  } else if (state_ >= State::kTrailerStart) {
    if (++trailer_len_ > max_trailers_) return bad("trailer section too large");
  }
  const bool ws = c == ' ' || c == '\t';
  const bool tchar = cc::is(c, cc::kTchar);
  switch (state_) {
    case State::kSize:
      if (cc::is(c, cc::kHex)) {
        const auto digit = static_cast<uint64_t>(cc::hex_value(c));
        size_seen_ = true;
        if (remaining_ == 0 && digit == 0)
          return true;  // leading zeros (the line limit bounds them)
        if (size_digits_++ == kMaxSizeDigits) return bad("chunk size too large");
        remaining_ = remaining_ * 16 + digit;
        // Digits only make it larger: past the limit now is past it for good.
        if (remaining_ > max_body_ - declared_) {
          over_limit_ = true;
          return bad("chunk size over the body limit");
        }
        return true;
      }
      if (!size_seen_) return bad("missing chunk size");
      [[fallthrough]];
    case State::kExtToken:
    case State::kExtAfterQuoted:
      if (state_ == State::kExtToken && tchar) return true;
      if (ws)
        state_ = State::kSizeWs;
      else if (c == ';')
        state_ = State::kExtNameStart;
      else if (c == '\r')
        state_ = State::kSizeLf;
      else
        return bad("invalid chunk size line");
      return true;
    case State::kSizeWs:
      if (ws) return true;
      if (c != ';') return bad("invalid chunk size line");
      state_ = State::kExtNameStart;
      return true;
    case State::kExtNameStart:
      if (ws) return true;
      if (!tchar) return bad("invalid chunk extension");
      state_ = State::kExtName;
      return true;
    case State::kExtName:
      if (tchar) return true;
      if (c == '\r') {
        state_ = State::kSizeLf;
        return true;
      }
      [[fallthrough]];
    case State::kExtNameWs:
      if (ws)
        state_ = State::kExtNameWs;
      else if (c == '=')
        state_ = State::kExtValueStart;
      else if (c == ';')
        state_ = State::kExtNameStart;
      else
        return bad("invalid chunk extension");
      return true;
    case State::kExtValueStart:
      if (ws) return true;
      if (c == '"')
        state_ = State::kExtQuoted;
      else if (tchar)
        state_ = State::kExtToken;
      else
        return bad("invalid chunk extension");
      return true;
    case State::kExtQuoted:
      if (c == '"')
        state_ = State::kExtAfterQuoted;
      else if (c == '\\')
        state_ = State::kExtQuotedPair;
      else if (!cc::is(c, cc::kQdtext))
        return bad("invalid chunk extension");
      return true;
    case State::kExtQuotedPair:
      if (!cc::is(c, cc::kFieldChar)) return bad("invalid chunk extension");
      state_ = State::kExtQuoted;
      return true;
    case State::kSizeLf:
      if (c != '\n') return bad("chunk size line not ended by CRLF");
      declared_ += remaining_;
      state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
      return true;
    case State::kDataCr:
      if (c != '\r') return bad("chunk data not followed by CRLF");
      state_ = State::kDataLf;
      return true;
    case State::kDataLf:
      if (c != '\n') return bad("chunk data not followed by CRLF");
      state_ = State::kSize;
      size_digits_ = 0;
      size_seen_ = false;
      line_len_ = 0;
      return true;
    case State::kTrailerStart:
      if (c == '\r')
        state_ = State::kFinalLf;
      else if (tchar)
        state_ = State::kTrailerName;
      else
        return bad("invalid trailer field");
      return true;
    case State::kTrailerName:
      if (c == ':')
        state_ = State::kTrailerValue;
      else if (!tchar)
        return bad("invalid trailer field");
      return true;
    case State::kTrailerValue:
      if (c == '\r')
        state_ = State::kTrailerLf;
      else if (!cc::is(c, cc::kFieldChar))
        return bad("invalid trailer field");
      return true;
    case State::kTrailerLf:
    case State::kFinalLf:
      if (c != '\n') return bad("trailer line not ended by CRLF");
      state_ = state_ == State::kFinalLf ? State::kDone : State::kTrailerStart;
      return true;
    case State::kData:
    case State::kDone:
    case State::kError:
      break;
  }
  return bad("internal: unexpected state");
}

}  // namespace proxy::http
