// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/base/expected.h"
#include "proxy/http/message.h"

namespace proxy::http {

// Why a message was refused. `status` is what a client is told (400, 414, 431, 501, 505); for an
// upstream response it is always 502. `reason` is static text for the log.
struct ParseError {
  int status = 400;
  const char* reason = "";
};

struct ParseLimits {
  size_t max_head = 16 * 1024;  // whole head, request line included: past it 431
  size_t max_line = 8 * 1024;   // request line: past it 414
};

// Scans buf for the end of a message head: the empty line after the header fields. `from` is
// where the previous call stopped (the caller passes the old buffer length) so bytes are scanned
// once. Returns the length of the head including its final CRLF, or 0 while incomplete. A bare LF
// also ends a line for this scan only: the strict parse below then refuses it.
size_t find_head_end(std::string_view buf, size_t from);

// For a head that is not yet complete: an error if it can no longer fit the limits (414 while
// still on the request line, else 431), or if its first bytes already cannot start a request
// (400: a bare LF or more than 8 empty lines first, or a first 64 bytes that are not
// "method SP request-target"). It never refuses a prefix of a head parse_request_head accepts.
base::Expected<void, ParseError> check_partial_request(std::string_view buf, const ParseLimits& l);

// True if the request line of |head| (after any leading empty lines) has a token after the method
// that starts with "HTTP/" (any case), or is HTTP/0.9's "METHOD /path": the client speaks some
// HTTP, so a refusal has someone to read it. Bytes that name no version are another protocol (a TLS
// hello on a plain port, an HTTP/2 client's invalid preface: RFC 9113 3.4 wants the connection
// closed) and get no HTTP/1.1 answer.
bool names_http_version(std::string_view head);

// Parses a complete request head (as found by find_head_end). The path is normalized in place:
// `head` is modified, and the views in `out` point into it (after an error its bytes are
// unspecified). Up to 8 leading empty lines are skipped (RFC 9112 2.2). Refuses, per RFC 9112 and
// the foundation issue, everything ambiguous: 400 malformed, 414 request line over max_line, 431
// head over max_head or more than HeaderList::kCapacity fields, 417 an Expect other than
// 100-continue, 501 CONNECT, 505 an HTTP major version other than 1.
base::Expected<void, ParseError> parse_request_head(char* head, size_t len, const ParseLimits& l,
                                                    RequestHead& out);

// Parses a complete upstream response head. `request_method` decides whether a body follows
// (HEAD, 1xx, 204, 304 have none). Content-Length values that agree are one length (RFC 9110
// 8.6); Transfer-Encoding must be exactly "chunked", never with Content-Length nor in HTTP/1.0.
// Errors always carry status 502.
base::Expected<void, ParseError> parse_response_head(std::string_view head, Method request_method,
                                                     ResponseHead& out);

// Normalizes an origin-form path in place (RFC 3986 6.2.2): percent-encoded unreserved characters
// are decoded, other escapes get upper-case hex, dot-segments are removed. Refuses (400) invalid
// escapes, %00, and a path that climbs above the root. Returns the new length.
base::Expected<size_t, ParseError> normalize_path(char* path, size_t len);

// Incremental decoder of a chunked body (RFC 9112 7.1). Feed it bytes in any split; it reports
// data spans and the end. Chunk extensions are validated and ignored; trailer fields are validated
// and dropped. Refused: a chunk-size over 16 significant hex digits (leading zeros are free), a
// chunk that would take the body past its limit (see reset()), a size line (extensions included,
// CRLF not) over max_line, a trailer section over max_trailers, any line not ended by CRLF. Bytes
// after the final CRLF are left unconsumed (the next message).
class ChunkedDecoder {
 public:
  enum class Status { kNeedMore, kData, kDone, kError };
  struct Result {
    Status status;
    size_t consumed;  // bytes of input used by this call (framing and data)
    size_t data_off;  // with kData: offset of the data span in the input
    size_t data_len;  // with kData: its length (> 0)
  };

  explicit ChunkedDecoder(size_t max_line = 4096, size_t max_trailers = 16 * 1024)
      : max_line_(max_line), max_trailers_(max_trailers) {}

  // Consumes from `in` up to and including the next data span, or all framing bytes available.
  // Call again with the remaining input until kNeedMore (everything consumed), kDone or kError.
  Result feed(std::string_view in);
  bool done() const { return state_ == State::kDone; }
  const char* error() const { return error_; }
  // With kError: a chunk's declared size would take the body past its limit (a 413, not a 400).
  // Known as soon as the size's digits say so, before its data arrives.
  bool over_limit() const { return over_limit_; }
  // Starts a new body whose chunks together may declare at most |max_body| bytes.
  void reset(uint64_t max_body = UINT64_MAX) {
    *this = ChunkedDecoder(max_line_, max_trailers_);
    max_body_ = max_body;
  }

 private:
  enum class State : uint8_t {
    // the chunk-size line
    kSize,
    kSizeWs,
    kExtNameStart,
    kExtName,
    kExtNameWs,
    kExtValueStart,
    kExtToken,
    kExtQuoted,
    kExtQuotedPair,
    kExtAfterQuoted,
    kSizeLf,
    // chunk-data CRLF
    kData,
    kDataCr,
    kDataLf,
    // trailer-section CRLF
    kTrailerStart,
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kFinalLf,
    kDone,
    kError
  };
  Result fail(const char* why, size_t consumed);
  bool step(char c);  // one framing byte; false (with error_ set) if it breaks the grammar

  size_t max_line_;
  size_t max_trailers_;
  State state_ = State::kSize;
  uint64_t remaining_ = 0;  // bytes of the current chunk's data still expected
  uint64_t max_body_ = UINT64_MAX;
  uint64_t declared_ = 0;   // sizes of the chunks before this one
  size_t size_digits_ = 0;  // significant digits of the size (leading zeros do not count)
  bool size_seen_ = false;  // the size line has a digit
  bool over_limit_ = false;
  size_t line_len_ = 0;     // length of the size line so far
  size_t trailer_len_ = 0;  // length of the trailer section so far
  const char* error_ = "";
};

// The "Content-Length" value as a number, or an error for anything but 1*DIGIT (no sign, no list).
base::Expected<uint64_t, ParseError> parse_content_length(std::string_view v);

}  // namespace proxy::http
