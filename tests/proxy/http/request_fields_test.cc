// SPDX-License-Identifier: MIT
// parse_request_head: header field syntax, framing, Host, Connection and Expect (RFC 9112 5-6,
// RFC 9110 7.2, 10.1.1), with the request-smuggling classics.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy/http/headers.h"
#include "tests/proxy/http/parse_helpers.h"

using proxy::http::Framing;
using proxy::http::HeaderList;
using proxy::http::test::get_with;
using proxy::http::test::parse_request;
using proxy::http::test::post_with;

TEST_CASE("field values are trimmed and kept in arrival order") {
  auto r = get_with("A:  one \r\nB:\ttwo\t\r\nC:\r\nD: x  y\r\n");
  REQUIRE(r->status() == 0);
  const HeaderList& h = r->head.headers;
  REQUIRE(h.size() == 5);
  CHECK(h[1].name == "A");
  CHECK(h[1].value == "one");
  CHECK(h[2].value == "two");
  CHECK(h[3].value.empty());
  CHECK(h[4].value == "x  y");
}

TEST_CASE("field values may hold obs-text and HTAB") {
  auto r = get_with("X-Name: caf\xc3\xa9\tok\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.headers[1].value == "caf\xc3\xa9\tok");
}

TEST_CASE("malformed field lines are refused with 400") {
  for (const std::string& line : std::vector<std::string>{
           "Foo : bar",    // space before the colon
           "Foo\t: bar",   // tab before the colon
           "Fo o: bar",    // space in the name
           "Fo\to: bar",   // tab in the name
           ": bar",        // empty name
           "Foo bar",      // no colon
           "Foo(bar): x",  // non-token name
           "Foo: a\x7f",   // DEL
           "Foo: a\x01",   // control
           "Foo: a\x0b"
           "b",                          // vertical tab
           std::string("Foo: a\0b", 8),  // NUL
           "Foo: a\rb",                  // bare CR
           " Foo: bar",                  // whitespace before the first field
       }) {
    CAPTURE(line);
    CHECK(get_with(line + "\r\n")->status() == 400);
  }
}

TEST_CASE("a control byte is refused at any offset of a long field value") {
  for (char bad : {'\0', '\x01', '\x1f', '\x7f', '\n', '\r'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string value(40, 'v');
      value[at] = bad;
      CAPTURE(static_cast<int>(bad));
      CAPTURE(at);
      CHECK(get_with("X: " + value + "z\r\n")->status() == 400);
    }
  }
}

TEST_CASE("HTAB, SP and obs-text are accepted at any offset of a long field value") {
  for (char ok : {'\t', ' ', '\x80', '\xff', '~', '!'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string value(40, 'v');
      value[at] = ok;
      CAPTURE(static_cast<int>(ok));
      CAPTURE(at);
      auto r = get_with("X: v" + value + "z\r\n");
      REQUIRE(r->status() == 0);
      CHECK(r->head.headers[1].value == "v" + value + "z");
    }
  }
}

TEST_CASE("obs-fold continuation lines are refused with 400") {
  CHECK(get_with("Foo: bar\r\n baz\r\n")->status() == 400);
  CHECK(get_with("Foo: bar\r\n\tbaz\r\n")->status() == 400);
}

TEST_CASE("a bare LF anywhere in the head is refused with 400") {
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\n\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n")->status() == 400);
}

TEST_CASE("up to HeaderList::kCapacity fields are accepted and one more is refused with 431") {
  std::string fields;
  for (size_t i = 1; i < HeaderList::kCapacity; ++i)
    fields += "X-F" + std::to_string(i) + ": v\r\n";
  auto ok = get_with(fields);
  REQUIRE(ok->status() == 0);
  CHECK(ok->head.headers.size() == HeaderList::kCapacity);
  CHECK(get_with(fields + "X-Last: v\r\n")->status() == 431);
}

TEST_CASE("a request without Content-Length or Transfer-Encoding has no body") {
  auto r = get_with("");
  CHECK(r->head.framing == Framing::kNone);
  CHECK(r->head.content_length == 0);
}

TEST_CASE("Content-Length frames the body, 0 included, with surrounding whitespace trimmed") {
  auto r = post_with("Content-Length:   42  \r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kLength);
  CHECK(r->head.content_length == 42);
  r = post_with("Content-Length: 0\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.framing == Framing::kLength);
  CHECK(r->head.content_length == 0);
  r = post_with("content-length: 18446744073709551615\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.content_length == UINT64_MAX);
}

TEST_CASE("a Content-Length that is not 1*DIGIT or overflows is refused with 400") {
  for (const char* v : {"+5", "-1", "0x10", "5 5", "5,5", "5, 5", "", "1e3", " ", "5.0",
                        "18446744073709551616", "99999999999999999999999"}) {
    CAPTURE(v);
    CHECK(post_with(std::string("Content-Length: ") + v + "\r\n")->status() == 400);
  }
}

TEST_CASE("a repeated Content-Length is refused with 400 even when the values agree") {
  CHECK(post_with("Content-Length: 5\r\nContent-Length: 5\r\n")->status() == 400);
  CHECK(post_with("Content-Length: 5\r\nContent-Length: 6\r\n")->status() == 400);
}

TEST_CASE("Transfer-Encoding: chunked frames the body, in any case and with OWS") {
  for (const char* v : {"chunked", "Chunked", "CHUNKED", "chunked  "}) {
    CAPTURE(v);
    auto r = post_with(std::string("Transfer-Encoding: ") + v + "\r\n");
    REQUIRE(r->status() == 0);
    CHECK(r->head.framing == Framing::kChunked);
  }
}

TEST_CASE("a Transfer-Encoding other than a single chunked is refused with 400") {
  for (const char* v : {"chunked, chunked", "gzip, chunked", "chunked, gzip", "gzip", "identity",
                        "chunked;q=1", "xchunked", "chunk", "", ",chunked", "chunked,"}) {
    CAPTURE(v);
    auto r = post_with(std::string("Transfer-Encoding: ") + v + "\r\n");
    CHECK(r->status() == 400);
  }
}

TEST_CASE("request smuggling classics are refused with 400") {
  for (const std::string& fields : std::vector<std::string>{
           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
           "Transfer-Encoding : chunked\r\n",
           "Transfer-Encoding: \x0b"
           "chunked\r\n",
           "Transfer-Encoding:\x0c"
           "chunked\r\n",
           "Transfer-Encoding\t: chunked\r\n",
           " Transfer-Encoding: chunked\r\n",
           "X: y\r\n Transfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\n\tgzip\r\n",
           "Transfer_Encoding: chunked\r\nContent-Length: +5\r\n",
           "Content-Length: 5\r\nContent-Length: 50\r\n",
           "Content-Length: 0x10\r\n",
           "Content-Length: 5\n",
           std::string("Content-Length: 5\0\r\n", 20),
       }) {
    CAPTURE(fields);
    CHECK(post_with(fields)->status() == 400);
  }
}

TEST_CASE("Transfer-Encoding in an HTTP/1.0 request is refused with 400") {
  CHECK(parse_request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")->status() == 400);
}

TEST_CASE("an HTTP/1.1 request without Host, or with two, is refused with 400") {
  CHECK(parse_request("GET / HTTP/1.1\r\n\r\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n")->status() == 400);
  CHECK(parse_request("GET http://a/ HTTP/1.1\r\n\r\n")->status() == 400);
}

TEST_CASE("an HTTP/1.0 request may omit Host and then has no authority") {
  auto r = parse_request("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.authority.empty());
  CHECK(r->head.version_minor == 0);
}

TEST_CASE("valid Host values become the authority") {
  for (const char* v :
       {"example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:443",
        "[2001:db8::ffff:1.2.3.4]", "xn--caf-dma.example", "under_score.example", "a%41b"}) {
    CAPTURE(v);
    auto r = parse_request(std::string("GET / HTTP/1.1\r\nHost: ") + v + "\r\n\r\n");
    REQUIRE(r->status() == 0);
    CHECK(r->head.authority == v);
  }
}

TEST_CASE("an invalid or empty Host is refused with 400") {
  for (const char* v : {"", "a b", "a/b", "user@a", "a:", ":80", "a:8o", "a:65536", "[::1", "::1",
                        "[]", "[v1.x]", "[::1]x", "[::1]:", "a%zz", "a\"b", "a:1:2", "a\xc3\xa9"}) {
    CAPTURE(v);
    CHECK(parse_request(std::string("GET / HTTP/1.1\r\nHost: ") + v + "\r\n\r\n")->status() == 400);
  }
}

TEST_CASE("an HTTP/1.1 connection stays open unless Connection lists close") {
  CHECK(get_with("")->head.keep_alive);
  CHECK(get_with("Connection: keep-alive\r\n")->head.keep_alive);
  CHECK_FALSE(get_with("Connection: close\r\n")->head.keep_alive);
  CHECK_FALSE(get_with("Connection: Upgrade, CLOSE\r\n")->head.keep_alive);
  CHECK_FALSE(get_with("Connection: te\r\nConnection: close\r\n")->head.keep_alive);
  CHECK(get_with("Connection: closed\r\n")->head.keep_alive);
}

TEST_CASE("an HTTP/1.0 connection closes unless Connection lists keep-alive") {
  CHECK_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n")->head.keep_alive);
  CHECK(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")->head.keep_alive);
  CHECK_FALSE(
      parse_request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")->head.keep_alive);
}

TEST_CASE("Expect: 100-continue is noted on HTTP/1.1 and ignored on HTTP/1.0") {
  auto r = post_with("Expect: 100-Continue\r\nContent-Length: 1\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.expect_continue);
  CHECK_FALSE(get_with("")->head.expect_continue);
  auto old = parse_request("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
  REQUIRE(old->status() == 0);
  CHECK_FALSE(old->head.expect_continue);
}

TEST_CASE("any other expectation is refused with 417") {
  for (const char* v : {"200-ok", "", "100-continue, foo", "100-continuex"}) {
    CAPTURE(v);
    CHECK(post_with(std::string("Expect: ") + v + "\r\n")->status() == 417);
  }
}

TEST_CASE("a RequestHead is fully reset when reused for the next request") {
  std::string first = "POST /a?b HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n";
  std::string second = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  proxy::http::RequestHead head;
  REQUIRE(proxy::http::parse_request_head(first.data(), first.size(), {}, head));
  REQUIRE(proxy::http::parse_request_head(second.data(), second.size(), {}, head));
  CHECK(head.framing == Framing::kNone);
  CHECK(head.content_length == 0);
  CHECK_FALSE(head.has_query);
  CHECK(head.headers.size() == 1);
  CHECK(head.version_minor == 1);
}

TEST_CASE(
    "a bodiless HTTP/1.1 GET with Connection: upgrade and Upgrade: websocket is a WebSocket "
    "handshake") {
  CHECK(get_with("Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n")
            ->head.upgrade_websocket);
  CHECK(get_with("Upgrade: h2c, websocket\r\nConnection: upgrade\r\n")->head.upgrade_websocket);
  CHECK(get_with("Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n")
            ->head.upgrade_websocket);
  SUBCASE("not without both fields, nor for another protocol") {
    CHECK_FALSE(get_with("Upgrade: websocket\r\n")->head.upgrade_websocket);
    CHECK_FALSE(get_with("Connection: Upgrade\r\n")->head.upgrade_websocket);
    CHECK_FALSE(get_with("Connection: Upgrade\r\nUpgrade: h2c\r\n")->head.upgrade_websocket);
  }
  SUBCASE("not with a body, another method, or HTTP/1.0 (RFC 9110 7.8)") {
    CHECK_FALSE(post_with("Content-Length: 3\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n")
                    ->head.upgrade_websocket);
    CHECK_FALSE(parse_request("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                              "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                    ->head.upgrade_websocket);
    CHECK_FALSE(parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
                              "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                    ->head.upgrade_websocket);
    CHECK_FALSE(parse_request("GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                    ->head.upgrade_websocket);
  }
}
