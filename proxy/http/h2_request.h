// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/base/expected.h"
#include "proxy/http/message.h"
#include "proxy/http/parser.h"

namespace proxy::http {

// Turns one HTTP/2 request header block (RFC 9113 8.3) into a RequestHead, field by field as the
// HPACK decoder emits them, so the rest of the proxy sees the same head as from HTTP/1.1:
// :authority (or Host) becomes the authority, :path is split and normalized with the HTTP/1 rules,
// cookie crumbs are joined into one field (RFC 9113 8.2.3).
//
// Names and values are copied into a caller-owned block that the RequestHead's views then point
// into; the block must outlive the head. The header list is measured as HTTP/2 does (name + value
// + 32 per field, RFC 9113 6.5.2) against max_head: past it 431, and the builder stops copying,
// so an HPACK bomb costs a counter, not memory.
//
// Refused, as RFC 9113 8.2 and 8.3 require and as strictly as the HTTP/1 parser: 400 for
// upper-case or non-token names, values with control bytes or surrounding whitespace,
// connection-specific fields, TE other than "trailers", pseudo-header fields that are unknown,
// repeated, after a regular field or missing, an invalid :scheme, :path or authority, :authority
// and Host that disagree, a repeated or invalid Content-Length, a body announced on a request that
// ended; 417 an Expect other than 100-continue; 431 a list over max_head or HeaderList::kCapacity
// fields; 501 CONNECT.
//
// Extended CONNECT (RFC 8441 4) with :protocol websocket, :scheme, :path and :authority is a
// WebSocket handshake: the head reads as a bodiless GET of :path with upgrade_websocket set, and
// the stream's DATA frames are the tunnel's bytes. Another :protocol is 501, :protocol on another
// method 400, and a handshake whose HEADERS end the stream 400.
class H2RequestBuilder {
 public:
  // Starts a header block. |out| is cleared; its views will point into |block|.
  void begin(char* block, size_t cap, size_t max_head, RequestHead* out);

  // One decoded field. After the first error further fields are only measured; finish() reports
  // that error.
  void add(std::string_view name, std::string_view value);

  // The block is complete (END_HEADERS). |end_stream|: the HEADERS frame ended the request, so no
  // body follows.
  base::Expected<void, ParseError> finish(bool end_stream);

  // The header list size so far (RFC 9113 6.5.2), errors or not: the HPACK bomb meter.
  uint64_t list_size() const { return list_size_; }
  bool failed() const { return error_.status != 0; }

 private:
  void fail(int status, const char* reason);
  // Copies |s| into the block; empty view (and a 431) when it does not fit.
  std::string_view copy(std::string_view s);
  void add_pseudo(std::string_view name, std::string_view value);
  void add_regular(std::string_view name, std::string_view value);
  base::Expected<void, ParseError> split_path(RequestHead& out);
  bool join_cookies();

  char* block_ = nullptr;
  size_t cap_ = 0;
  size_t used_ = 0;
  size_t max_head_ = 0;
  RequestHead* out_ = nullptr;
  uint64_t list_size_ = 0;
  ParseError error_{0, ""};
  std::string_view scheme_, path_, authority_, host_, content_length_, protocol_;
  bool has_method_ = false, has_scheme_ = false, has_path_ = false, has_authority_ = false;
  bool has_protocol_ = false;
  bool regular_seen_ = false;
  uint32_t cookies_ = 0;
  uint32_t hosts_ = 0;
  uint32_t content_lengths_ = 0;
  bool expect_continue_ = false;
};

}  // namespace proxy::http
