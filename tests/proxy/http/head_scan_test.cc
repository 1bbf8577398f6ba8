// SPDX-License-Identifier: MIT
// find_head_end and check_partial_request: finding a head in a growing buffer and refusing early.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy/http/parser.h"

using proxy::http::check_partial_request;
using proxy::http::find_head_end;
using proxy::http::ParseLimits;

namespace {

// find_head_end called as a connection would: once per byte received, passing the old length.
size_t scan_bytewise(const std::string& s) {
  for (size_t n = 1; n <= s.size(); ++n)
    if (size_t end = find_head_end(std::string_view(s.data(), n), n - 1)) return end;
  return 0;
}

int partial_status(const std::string& s, ParseLimits l = {}) {
  auto r = check_partial_request(s, l);
  return r ? 0 : r.error().status;
}

}  // namespace

TEST_CASE("the head ends after the first empty line and excludes the body") {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n";
  CHECK(find_head_end(head + "body", 0) == head.size());
  CHECK(scan_bytewise(head + "body") == head.size());
}

TEST_CASE("an incomplete head reports 0") {
  CHECK(find_head_end("", 0) == 0);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: h\r\n", 0) == 0);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: h\r\n\r", 0) == 0);
}

TEST_CASE("a bare LF ends a line for the scan so that the parse can refuse it") {
  CHECK(find_head_end("GET / HTTP/1.1\nHost: h\n\nrest", 0) == 24);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: h\n\r\n", 0) == 26);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: h\r\n\n", 0) == 26);
}

TEST_CASE("leading empty lines do not end the head") {
  const std::string s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(find_head_end(s, 0) == s.size());
  CHECK(scan_bytewise(s) == s.size());
  CHECK(find_head_end("\r\n\r\n", 0) == 0);
  CHECK(find_head_end("\n\n", 0) == 0);
}

TEST_CASE("scanning byte by byte finds the same end as scanning at once") {
  for (const std::string& s :
       std::vector<std::string>{"GET / HTTP/1.1\r\nA: b\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
                                "\r\nGET / HTTP/1.0\r\n\r\nGET", "HTTP/1.1 200 OK\r\n\r\n"}) {
    CAPTURE(s);
    CHECK(scan_bytewise(s) == find_head_end(s, 0));
    CHECK(find_head_end(s, 0) != 0);
  }
}

TEST_CASE("every prefix of a valid request passes check_partial_request") {
  const std::string s = "\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nX: y\r\n";
  for (size_t n = 0; n <= s.size(); ++n) {
    CAPTURE(n);
    CHECK(partial_status(s.substr(0, n)) == 0);
  }
}

TEST_CASE("garbage at the start of a request fails fast with 400") {
  for (const std::string& s :
       std::vector<std::string>{std::string("\x16\x03\x01\x02\x00", 5), " GET", "GET  /", "GET\t/",
                                "\nGET", "\rX", "G\x01", "GET \x7f"}) {
    CAPTURE(s);
    CHECK(partial_status(s) == 400);
  }
}

TEST_CASE("more than eight empty lines before the request fail fast with 400") {
  std::string s;
  for (int i = 0; i < 8; ++i) s += "\r\n";
  CHECK(partial_status(s) == 0);
  CHECK(partial_status(s + "\r") == 400);
  CHECK(partial_status(s + "\r\n") == 400);
}

TEST_CASE("an unfinished request line past max_line fails with 414") {
  ParseLimits l;
  l.max_line = 32;
  const std::string line = "GET /" + std::string(27, 'a');  // 32 bytes
  CHECK(partial_status(line, l) == 0);
  CHECK(partial_status(line + "\r", l) == 0);
  CHECK(partial_status(line + "a", l) == 414);
  CHECK(partial_status(line + "\r\nHost: " + std::string(40, 'h'), l) == 0);
}

TEST_CASE("an unfinished head that reaches max_head fails with 431") {
  ParseLimits l;
  l.max_head = 64;
  const std::string start = "GET / HTTP/1.1\r\nX: ";
  CHECK(partial_status(start + std::string(63 - start.size(), 'v'), l) == 0);
  CHECK(partial_status(start + std::string(64 - start.size(), 'v'), l) == 431);
}
