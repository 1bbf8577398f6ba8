// SPDX-License-Identifier: MIT
// parse_response_head: status line, field syntax and response framing (RFC 9112 4, 6.3).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/proxy/http/parse_helpers.h"

using proxy::http::Framing;
using proxy::http::Method;
using proxy::http::test::parse_response;

namespace {

std::string ok_with(const std::string& fields) {
  return "HTTP/1.1 200 OK\r\n" + fields + "\r\n";
}

}  // namespace

TEST_CASE("a response status line is parsed with its reason") {
  auto r = parse_response(ok_with("Content-Length: 2\r\n"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.status == 200);
  CHECK(r->head.reason == "OK");
  CHECK(r->head.version_minor == 1);
  CHECK(r->head.framing == Framing::kLength);
  CHECK(r->head.content_length == 2);
  CHECK(r->head.keep_alive);
}

TEST_CASE("the reason phrase may be long, empty or absent") {
  auto r = parse_response("HTTP/1.1 404 Not  Found\t(really)\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.reason == "Not  Found\t(really)");
  r = parse_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.reason.empty());
  r = parse_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.status == 200);
}

TEST_CASE("a malformed status line is refused with 502") {
  for (const char* line : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK",
                           "HTTP/1.1 099 X", "HTTP/1.1 600 X", "HTTP/2 200 OK", "HTTP/2.0 200 OK",
                           "http/1.1 200 OK", "HTTP/1.1 200 O\x01K", "HTTP/1.1 2x0 OK",
                           "HTTP/1.1\t200 OK", "ICY 200 OK", "HTTP/1.1 200OK"}) {
    CAPTURE(line);
    auto r = parse_response(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    CHECK(r->status() == 502);
  }
  CHECK(parse_response("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n")->status() == 502);
  CHECK(parse_response("HTTP/1.1 200 OK\r\n")->status() == 502);
  CHECK(parse_response("")->status() == 502);
}

TEST_CASE("response field syntax is as strict as a request's, refused with 502") {
  for (const std::string& f : std::vector<std::string>{
           "Foo : bar\r\n", "Foo: a\x7f\r\n", "Foo: bar\r\n baz\r\n", "Foo: a\n", "Foo: a\rb\r\n",
           std::string("Foo: a\0\r\n", 9), ": x\r\n"}) {
    CAPTURE(f);
    CHECK(parse_response(ok_with(f))->status() == 502);
  }
  std::string many;
  for (int i = 0; i <= 128; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(parse_response(ok_with(many))->status() == 502);
}

TEST_CASE("responses to HEAD and 1xx, 204, 304 responses have no body whatever they announce") {
  auto head = parse_response(ok_with("Content-Length: 10\r\n"), Method::kHead);
  REQUIRE(head.get()->status() == 0);
  CHECK(head->head.framing == Framing::kNone);
  CHECK(head->head.keep_alive);
  for (const char* line : {"HTTP/1.1 100 Continue", "HTTP/1.1 204 No Content",
                           "HTTP/1.1 304 Not Modified", "HTTP/1.1 103 Early Hints"}) {
    CAPTURE(line);
    auto r = parse_response(std::string(line) + "\r\nTransfer-Encoding: chunked\r\n\r\n");
    REQUIRE(r->status() == 0);
    CHECK(r->head.framing == Framing::kNone);
  }
}

TEST_CASE("a 204 loses its Content-Length and Transfer-Encoding; a 304 keeps its Content-Length") {
  auto r = parse_response("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kNone);
  CHECK(r->head.content_length == 0);
  CHECK(r->head.headers.find("content-length") == nullptr);
  CHECK(r->head.headers.find("x-a") != nullptr);
  // It announced a body it may still send: the connection is not reused.
  CHECK_FALSE(r->head.keep_alive);
  r = parse_response("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.headers.find("transfer-encoding") == nullptr);
  CHECK_FALSE(r->head.keep_alive);
  r = parse_response("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.headers.size() == 0);
  CHECK(r->head.keep_alive);
  r = parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kNone);
  CHECK(r->head.content_length == 0);
  CHECK(r->head.headers.find("content-length") != nullptr);
  CHECK(r->head.keep_alive);
}

TEST_CASE("a chunked response is framed by chunks") {
  auto r = parse_response(ok_with("Transfer-Encoding: Chunked\r\n"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kChunked);
}

TEST_CASE("a response with both Content-Length and Transfer-Encoding is refused with 502") {
  CHECK(parse_response(ok_with("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"))->status() ==
        502);
}

TEST_CASE("a response Transfer-Encoding other than a single chunked is refused with 502") {
  for (const std::string& f : std::vector<std::string>{
           "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: gzip\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked, chunked\r\n"}) {
    CAPTURE(f);
    CHECK(parse_response(ok_with(f))->status() == 502);
  }
  CHECK(parse_response("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")->status() == 502);
}

TEST_CASE("repeated Content-Length values that agree are one length") {
  for (const std::string& f : std::vector<std::string>{
           "Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n",
           "Content-Length: 5,5\r\ncontent-length: 5\r\n"}) {
    CAPTURE(f);
    auto r = parse_response(ok_with(f));
    REQUIRE(r->status() == 0);
    CHECK(r->head.framing == Framing::kLength);
    CHECK(r->head.content_length == 5);
  }
}

TEST_CASE("differing or malformed Content-Length values are refused with 502") {
  for (const std::string& f : std::vector<std::string>{
           "Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n",
           "Content-Length: +5\r\n", "Content-Length: 0x5\r\n", "Content-Length:\r\n",
           "Content-Length: ,\r\n", "Content-Length: 5, x\r\n",
           "Content-Length: 99999999999999999999\r\n"}) {
    CAPTURE(f);
    CHECK(parse_response(ok_with(f))->status() == 502);
  }
}

TEST_CASE("a response without length or chunks is read until close") {
  auto r = parse_response(ok_with(""));
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kUntilClose);
  CHECK_FALSE(r->head.keep_alive);
}

TEST_CASE("an upstream connection is reused per version and Connection") {
  CHECK_FALSE(
      parse_response(ok_with("Content-Length: 0\r\nConnection: close\r\n"))->head.keep_alive);
  CHECK_FALSE(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")->head.keep_alive);
  CHECK(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
            ->head.keep_alive);
}
