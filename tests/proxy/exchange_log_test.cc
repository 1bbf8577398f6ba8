// SPDX-License-Identifier: MIT
// What the logs say about an exchange: escaping, the request line, the body bytes sent.
#include "proxy/exchange_log.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "proxy/exchange.h"

using proxy::Escape;
using proxy::Exchange;

namespace {

std::string escaped(std::string_view s, Escape how = Escape::kNginx) {
  char out[256];
  return std::string(out, proxy::log_escape(out, sizeof out, s, how));
}

std::string request_line(const Exchange& ex, Escape how = Escape::kNginx) {
  char out[8192];
  return std::string(out, proxy::format_request_line(ex, out, sizeof out, how));
}

}  // namespace

TEST_CASE("log escaping follows nginx, and keeps JSON valid") {
  CHECK(escaped("GET /a b") == "GET /a b");
  CHECK(escaped(std::string("\"\\\x01\x7f\xff", 5)) == "\\x22\\x5C\\x01\\x7F\\xFF");
  CHECK(escaped(std::string("\"\\\x01\xff", 4), Escape::kJson) == "\\\"\\\\\\u0001\\u00FF");
}

TEST_CASE("log escaping never cuts an escape in half") {
  char out[5];
  CHECK(proxy::log_escape(out, sizeof out, "ab\x01", Escape::kNginx) == 2);
  CHECK(proxy::log_escape(out, sizeof out, "abcdefgh", Escape::kNginx) == 5);
}

TEST_CASE("the request line: parsed, as received when refused, or a dash") {
  auto ex = std::make_unique<Exchange>();
  CHECK(request_line(*ex) == "-");
  ex->request.method_name = "GET";
  ex->request.target = "/x?\"";
  ex->request.version_minor = 0;
  CHECK(request_line(*ex) == "GET /x?\\x22 HTTP/1.0");
  ex->request.http2 = true;
  CHECK(request_line(*ex) == "GET /x?\\x22 HTTP/2.0");
  ex->raw_request_line = "GET /%zz HTTP/1.1\r";
  CHECK(request_line(*ex) == "GET /%zz HTTP/1.1\\x0D");
  const std::string long_line(5000, 'a');
  ex->raw_request_line = long_line;
  CHECK(request_line(*ex) == std::string(proxy::kMaxLoggedLine, 'a') + "...");
}

TEST_CASE("body bytes sent leave the response head out") {
  auto ex = std::make_unique<Exchange>();
  ex->bytes_out = 449;
  ex->head_bytes = 137;
  CHECK(proxy::body_bytes_sent(*ex) == 312);
  ex->bytes_out = 100;  // cut inside the head
  CHECK(proxy::body_bytes_sent(*ex) == 0);
  ex->request.http2 = true;
  ex->data_bytes = 312;
  CHECK(proxy::body_bytes_sent(*ex) == 312);
}
