// SPDX-License-Identifier: MIT
// What the deliver stage sends a client about a response, whatever the protocol: the HTTP/1.1
// text head (deliver.cc) and the HTTP/2 HEADERS frame (downstream/http2_response.cc) share it.
#pragma once

#include <cstddef>
#include <string_view>

#include "proxy/cache_reply.h"
#include "proxy/http/headers.h"
#include "proxy/http/message.h"

namespace proxy {
struct Exchange;
}

namespace proxy::stages {

// Whether a response with |status| to the exchange's request has a body: never for HEAD, 1xx,
// 204 and 304 (RFC 9110 6.4.1).
bool response_has_body(const Exchange& ex, int status);

// Whether a field of the backend's response reaches the client. Hop-by-hop fields, those the
// backend's Connection field names, gatehouse's own X-Accel-* and X-Upload-Keep instructions and
// the backend's framing never do (the deliverer sets its own); a Content-Length on a response
// without a body (HEAD, 304) describes the representation and is kept; a 204 has none (RFC
// 9110 8.6), nor a 101 (the tunnel that follows has no length). |connection| holds the response's
// Connection options.
bool forwarded_response_field(const http::ResponseHead& resp, const http::Header& field,
                              const http::ConnectionOptions& connection);

// Fields of the backend's response that are for the cache, not for clients, once the config has
// a cache: the targeted cache-control field (RFC 9213: CDN-Cache-Control or
// cache.targeted_header), Surrogate-Key (the object's tags), and a status header of the
// backend's own name (gatehouse sends its own).
bool cache_only_field(const Exchange& ex, std::string_view name);

// The cache status header (cache.status_header) the exchange's response carries: its name, or
// empty for none; |value| is HIT, MISS, ...
std::string_view cache_status_field(const Exchange& ex, std::string_view& value);

// The Age, status header and Date of a response served from the exchange's cache object.
ReplyFields cached_reply_fields(Exchange& ex);
// The reply of an exchange served from a representation (a stored object: ex.caching.serving(),
// or a file: ex.file.serving()), what both heads are written from.
struct PlannedReply {
  const CacheReply* reply = nullptr;
  const http::HeaderList* fields = nullptr;
  ReplyFields extra;
};
PlannedReply planned_reply(Exchange& ex);

// The short text body of a local response ("404 Not Found\n") written to |buf|; returns its
// length, 0 when the response has none (a 200 to OPTIONS *).
size_t local_body(const Exchange& ex, char* buf, size_t cap);

// The body of a local response: ex.local_text when the stage that answered set one, else the
// short text local_body() writes to |buf|.
std::string_view local_body_text(const Exchange& ex, char* buf, size_t cap);
// Its Content-Type: ex.local_type when set, else kTextPlain.
std::string_view local_content_type(const Exchange& ex);

// The Allow field a local 200 to OPTIONS * (or a local 405: ex.allow) carries, empty otherwise.
std::string_view local_allow(const Exchange& ex);

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

}  // namespace proxy::stages
