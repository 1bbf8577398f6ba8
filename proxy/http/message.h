// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/http/headers.h"

namespace proxy::http {

enum class Method : uint8_t {
  kOther,
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kOptions,
  kPatch,
  kTrace,
  kConnect
};

// Safe and idempotent methods may be retried on another connection (RFC 9110 9.2.2).
bool is_idempotent(Method m);

// How the body of a message is delimited (RFC 9112 6.3).
enum class Framing : uint8_t {
  kNone,        // no body
  kLength,      // Content-Length bytes
  kChunked,     // Transfer-Encoding: chunked
  kUntilClose,  // responses only: read until the connection closes
};

// A parsed request head. All views point into the caller's head buffer, which must outlive it.
struct RequestHead {
  std::string_view method_name;
  Method method = Method::kOther;
  // As received, except that the path inside it is rewritten in place when normalization changes
  // it; the target then reads [scheme://authority] path ['?' query], still contiguous.
  std::string_view target;
  std::string_view path;   // normalized: dot-segments removed, unreserved %XX decoded
  std::string_view query;  // after '?', without it; empty if none
  bool has_query = false;
  bool asterisk = false;       // "OPTIONS *"
  std::string_view authority;  // Host, or the authority of an absolute-form target
  int version_minor = 1;       // HTTP/1.x
  bool http2 = false;          // came as an HTTP/2 stream (version_minor is then 1)
  HeaderList headers;
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;  // when framing == kLength ("Content-Length: 0" is kLength, 0)
  bool keep_alive = true;       // from version and Connection
  bool expect_continue = false;
  // A WebSocket opening handshake (RFC 6455 4.1) to pass to the backend: an HTTP/1.1 GET without
  // a body whose Connection names "upgrade" and whose Upgrade lists "websocket", or an HTTP/2
  // extended CONNECT with :protocol websocket (RFC 8441 4; method and name then read GET).
  bool upgrade_websocket = false;

  // Field by field: assigning a fresh RequestHead would copy the whole header array per request.
  // A new member must be reset here too.
  void clear() {
    method_name = {};
    method = Method::kOther;
    target = path = query = authority = {};
    has_query = asterisk = expect_continue = http2 = upgrade_websocket = false;
    version_minor = 1;
    headers.clear();
    framing = Framing::kNone;
    content_length = 0;
    keep_alive = true;
  }
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int version_minor = 1;
  HeaderList headers;
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;  // the upstream connection may be reused after this response

  // See RequestHead::clear().
  void clear() {
    status = 0;
    reason = {};
    version_minor = 1;
    headers.clear();
    framing = Framing::kNone;
    content_length = 0;
    keep_alive = true;
  }
};

}  // namespace proxy::http
