// SPDX-License-Identifier: MIT
// What both codecs send a client about a response (stages/response_fields.h).
#include "proxy/stages/response_fields.h"

#include <doctest/doctest.h>

#include <memory>

#include "proxy/exchange.h"

using proxy::Exchange;
using proxy::http::Framing;
using proxy::http::Header;
using proxy::http::Method;
using proxy::http::ResponseHead;
using proxy::stages::forwarded_response_field;
using proxy::stages::local_allow;
using proxy::stages::local_body;
using proxy::stages::response_has_body;

const proxy::http::HeaderList kNoFields;
const proxy::http::ConnectionOptions kNoOptions(kNoFields);

TEST_CASE("hop-by-hop, Connection-listed, framing and X-Accel-* fields never reach the client") {
  ResponseHead resp;
  resp.framing = Framing::kLength;
  proxy::http::HeaderList fields;
  fields.push("Connection", "close, X-Private");
  const proxy::http::ConnectionOptions connection(fields);
  for (const char* name :
       {"Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Proxy-Connection",
        "Content-Length", "X-Accel-Redirect", "x-accel-buffering", "X-Private"}) {
    CAPTURE(name);
    CHECK_FALSE(forwarded_response_field(resp, Header{name, "v"}, connection));
  }
  for (const char* name : {"Content-Type", "Set-Cookie", "X-Accel", "Cache-Control", "Date"}) {
    CAPTURE(name);
    CHECK(forwarded_response_field(resp, Header{name, "v"}, connection));
  }
}

TEST_CASE("every Connection line counts: options split over several lines are all dropped") {
  ResponseHead resp;
  resp.framing = Framing::kLength;
  proxy::http::HeaderList fields;
  fields.push("Connection", "keep-alive");
  fields.push("X-One", "1");
  fields.push("connection", "X-One, x-two");
  fields.push("Connection", "X-Three");
  const proxy::http::ConnectionOptions connection(fields);
  for (const char* name : {"X-One", "X-Two", "x-three"}) {
    CAPTURE(name);
    CHECK_FALSE(forwarded_response_field(resp, Header{name, "v"}, connection));
  }
  CHECK(forwarded_response_field(resp, Header{"X-Four", "v"}, connection));
}

TEST_CASE("a 101's Content-Length is dropped: the tunnel that follows has no length") {
  ResponseHead resp;
  resp.framing = Framing::kNone;
  resp.status = 101;
  CHECK_FALSE(forwarded_response_field(resp, Header{"Content-Length", "12"}, kNoOptions));
}

TEST_CASE("a Content-Length without a body (HEAD, 304) is the representation's and is kept") {
  ResponseHead resp;
  resp.framing = Framing::kNone;
  resp.status = 200;  // to a HEAD
  CHECK(forwarded_response_field(resp, Header{"content-length", "42"}, kNoOptions));
  resp.status = 304;
  CHECK(forwarded_response_field(resp, Header{"content-length", "42"}, kNoOptions));
  resp.status = 200;
  resp.framing = Framing::kChunked;
  CHECK_FALSE(forwarded_response_field(resp, Header{"content-length", "42"}, kNoOptions));
}

TEST_CASE("a 204 never carries Content-Length (RFC 9110 8.6)") {
  ResponseHead resp;
  resp.framing = Framing::kNone;
  resp.status = 204;
  CHECK_FALSE(forwarded_response_field(resp, Header{"Content-Length", "0"}, kNoOptions));
  CHECK_FALSE(forwarded_response_field(resp, Header{"Transfer-Encoding", "chunked"}, kNoOptions));
}

TEST_CASE("HEAD, 1xx, 204 and 304 responses have no body") {
  auto ex = std::make_unique<Exchange>();
  ex->request.method = Method::kGet;
  CHECK(response_has_body(*ex, 200));
  CHECK(response_has_body(*ex, 404));
  CHECK_FALSE(response_has_body(*ex, 204));
  CHECK_FALSE(response_has_body(*ex, 304));
  CHECK_FALSE(response_has_body(*ex, 101));
  ex->request.method = Method::kHead;
  CHECK_FALSE(response_has_body(*ex, 200));
}

TEST_CASE("local responses carry a short text body; OPTIONS * gets Allow and none") {
  auto ex = std::make_unique<Exchange>();
  char buf[96];
  ex->status = 502;
  CHECK(std::string_view(buf, local_body(*ex, buf, sizeof buf)) == "502 Bad Gateway\n");
  CHECK(local_allow(*ex).empty());
  ex->status = 200;
  ex->request.asterisk = true;
  CHECK(local_body(*ex, buf, sizeof buf) == 0);
  CHECK(local_allow(*ex).find("OPTIONS") != std::string_view::npos);
}
