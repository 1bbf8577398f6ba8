// SPDX-License-Identifier: MIT
// How a stored cache object, or a file served from disk, answers one request: the status, the
// fields and the body segments (RFC 9111 4 with RFC 9110 13 preconditions and 14 ranges).
// Planning is pure; the heads are written for HTTP/1.1 (text) and HTTP/2 (a field list), from
// the same plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/object.h"
#include "cache/range.h"
#include "proxy/http/headers.h"
#include "proxy/http/message.h"
#include "proxy/io/head_builder.h"

namespace proxy {

// A body_size that is not known yet (a fill without Content-Length still in progress).
inline constexpr uint64_t kUnknownSize = UINT64_MAX;

// One piece of the reply's body: bytes of CacheReply::literal, or a range of the object's body.
// An object segment of length kUnknownSize runs to the end of the body, wherever that turns out
// to be (the 200 of an object of unknown size).
struct ReplySegment {
  bool literal = false;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct CacheReply {
  enum class Kind : uint8_t {
    kFull,                // 200 (or the stored status): the whole body
    kNotModified,         // 304: a client's conditional request holds (RFC 9110 15.4.5)
    kPreconditionFailed,  // 412
    kPartial,             // 206, one range, Content-Range
    kMultipart,           // 206, multipart/byteranges (RFC 9110 14.6)
    kUnsatisfiable,       // 416, Content-Range: bytes */size
  };
  static constexpr size_t kMaxSegments = 2 * cache::kMaxRanges + 1;

  Kind kind = Kind::kFull;
  int status = 200;
  bool head_only = false;       // HEAD: the head of the reply, no body bytes
  bool length_known = true;     // false: no Content-Length (HTTP/1.1 chunks it)
  uint64_t content_length = 0;  // the Content-Length field (for HEAD, of the body GET would get)
  uint64_t size = 0;            // the whole representation's size, for Content-Range
  cache::ByteRange range;       // kPartial
  char boundary[32] = {};       // kMultipart, NUL-terminated
  std::string literal;          // kMultipart: part heads and the closing delimiter
  ReplySegment segments[kMaxSegments];
  size_t segment_count = 0;  // empty for HEAD, 304, 412, 416

  std::string_view boundary_view() const { return boundary; }
  // The body bytes the segments add up to (kUnknownSize if one of them is open-ended).
  uint64_t body_bytes() const;
};

// Plans the reply of |head| (with its decoded fields |stored|) to |req|: preconditions first
// (304 or 412), then Range for a GET on an object of known |body_size| (206, multipart 206 or
// 416; If-Range), complete or still filling (|complete| false: the ranges are sent as the bytes
// arrive), else the stored status with the whole body. HEAD gets the same head with no body.
CacheReply plan_reply(const http::RequestHead& req, const cache::ObjectHead& head,
                      const http::HeaderList& stored, uint64_t body_size, bool complete = true);
// The same for any representation: its |status| (200 for a file), its fields |stored|
// (Content-Type, ETag, Last-Modified, ...), its body of |body_size| bytes. A file served from
// disk (offload/file_serve.h) is planned with it, exactly as a stored object is.
CacheReply plan_reply(const http::RequestHead& req, int status, const http::HeaderList& stored,
                      uint64_t body_size, bool complete = true);

// What a served-from-cache head says besides the stored fields.
struct ReplyFields {
  int64_t age = 0;                 // cache::current_age at the time of sending (RFC 9111 5.1)
  std::string_view status_header;  // the configured status header's name ("" for none)
  std::string_view status_value;   // HIT, STALE, REVALIDATED, ...
  std::string_view date;           // now as an HTTP-date: sent when the stored head has no Date
  bool send_age = true;            // false: no Age (a file served from disk, not from a cache)
  bool send_via = true;            // false: no Via (a static file: no backend was involved)
};

// The framing the HTTP/1.1 head chose.
struct Http1Framing {
  bool chunked = false;      // the body goes in chunks (length unknown, HTTP/1.1 client)
  bool close_after = false;  // the connection closes after this response
};

// Writes the HTTP/1.1 head of |reply| (status line to the blank line) into |h|. |version_minor|
// is the client's; |close_after| whether the connection closes already (Connection: close, as
// the deliver stage does; Connection: keep-alive for an HTTP/1.0 client that keeps it).
Http1Framing write_http1_head(const CacheReply& reply, const http::HeaderList& stored,
                              const ReplyFields& fields, int version_minor, bool close_after,
                              io::HeadBuilder& h);

// The HTTP/2 response fields of |reply|: ":status" first, then names in lower case (RFC 9113
// 8.2.1), no connection-specific fields, Content-Length when known. Views point into |stored|,
// |fields|, |reply| and |buf| (lowered names and numbers; kScratchSize is plenty). Returns the
// number of fields written to |out| (at most |cap|), 0 if |buf| ran out.
struct H2Field {
  std::string_view name;
  std::string_view value;
};
size_t http2_fields(const CacheReply& reply, const http::HeaderList& stored,
                    const ReplyFields& fields, H2Field* out, size_t cap, char* buf, size_t buf_cap);

// Whether a stored field is sent with |reply| (not the framing, not Age, not the status header,
// not what a 304/206/416 must not carry). Shared by both heads.
bool reply_carries(const CacheReply& reply, std::string_view name, std::string_view status_header);

}  // namespace proxy
