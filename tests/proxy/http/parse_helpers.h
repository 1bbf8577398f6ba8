// SPDX-License-Identifier: MIT
// Test helpers: run the head parsers on a string literal and keep the buffer alive.
#pragma once

#include <memory>
#include <string>

#include "proxy/http/parser.h"

namespace proxy::http::test {

// A parsed request with the buffer its views point into; status() is 0 on success.
struct ParsedRequest {
  std::string buf;
  RequestHead head;
  base::Expected<void, ParseError> result;

  int status() const { return result ? 0 : result.error().status; }
  const char* reason() const { return result ? "" : result.error().reason; }
};

inline std::unique_ptr<ParsedRequest> parse_request(std::string text, ParseLimits limits = {}) {
  auto r = std::make_unique<ParsedRequest>();
  r->buf = std::move(text);
  r->result = parse_request_head(r->buf.data(), r->buf.size(), limits, r->head);
  return r;
}

// A GET for "/" on HTTP/1.1 with Host and then `fields` (each line ending in CRLF).
inline std::unique_ptr<ParsedRequest> get_with(const std::string& fields) {
  return parse_request("GET / HTTP/1.1\r\nHost: example.com\r\n" + fields + "\r\n");
}

inline std::unique_ptr<ParsedRequest> post_with(const std::string& fields) {
  return parse_request("POST /upload HTTP/1.1\r\nHost: example.com\r\n" + fields + "\r\n");
}

struct ParsedResponse {
  std::string buf;
  ResponseHead head;
  base::Expected<void, ParseError> result;

  int status() const { return result ? 0 : result.error().status; }
};

inline std::unique_ptr<ParsedResponse> parse_response(std::string text,
                                                      Method method = Method::kGet) {
  auto r = std::make_unique<ParsedResponse>();
  r->buf = std::move(text);
  r->result = parse_response_head(r->buf, method, r->head);
  return r;
}

}  // namespace proxy::http::test
