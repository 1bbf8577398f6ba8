// SPDX-License-Identifier: MIT
// parse_request_head: the request line and the request-target (RFC 9112 3).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/proxy/http/parse_helpers.h"

using proxy::http::Method;
using proxy::http::ParseLimits;
using proxy::http::test::parse_request;

namespace {

std::string with_host(const std::string& line) {
  return line + "\r\nHost: h\r\n\r\n";
}

}  // namespace

TEST_CASE("a minimal HTTP/1.1 GET is parsed into its parts") {
  auto r = parse_request("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.method == Method::kGet);
  CHECK(r->head.method_name == "GET");
  CHECK(r->head.target == "/index.html?x=1");
  CHECK(r->head.path == "/index.html");
  CHECK(r->head.has_query);
  CHECK(r->head.query == "x=1");
  CHECK(r->head.version_minor == 1);
  CHECK(r->head.authority == "example.com");
  CHECK(r->head.keep_alive);
  CHECK_FALSE(r->head.asterisk);
  REQUIRE(r->head.headers.size() == 1);
  CHECK(r->head.headers[0].name == "Host");
}

TEST_CASE("every view of a parsed request points into the caller's buffer") {
  auto r = parse_request("POST /a/b?q HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\n\r\n");
  REQUIRE(r->status() == 0);
  const char* lo = r->buf.data();
  const char* hi = lo + r->buf.size();
  for (std::string_view v :
       {r->head.method_name, r->head.target, r->head.path, r->head.query, r->head.authority}) {
    CHECK(v.data() >= lo);
    CHECK(v.data() + v.size() <= hi);
  }
}

TEST_CASE("methods map to the enum case-sensitively and others are kept by name") {
  struct Case {
    const char* name;
    Method method;
  };
  for (Case c :
       {Case{"GET", Method::kGet}, Case{"HEAD", Method::kHead}, Case{"POST", Method::kPost},
        Case{"PUT", Method::kPut}, Case{"DELETE", Method::kDelete},
        Case{"OPTIONS", Method::kOptions}, Case{"PATCH", Method::kPatch},
        Case{"TRACE", Method::kTrace}, Case{"get", Method::kOther}, Case{"PURGE", Method::kOther},
        Case{"M-SEARCH", Method::kOther}}) {
    CAPTURE(c.name);
    auto r = parse_request(with_host(std::string(c.name) + " / HTTP/1.1"));
    REQUIRE(r->status() == 0);
    CHECK(r->head.method == c.method);
    CHECK(r->head.method_name == c.name);
  }
}

TEST_CASE("safe and idempotent methods are the retryable ones") {
  CHECK(proxy::http::is_idempotent(Method::kGet));
  CHECK(proxy::http::is_idempotent(Method::kPut));
  CHECK(proxy::http::is_idempotent(Method::kDelete));
  CHECK_FALSE(proxy::http::is_idempotent(Method::kPost));
  CHECK_FALSE(proxy::http::is_idempotent(Method::kPatch));
  CHECK_FALSE(proxy::http::is_idempotent(Method::kOther));
}

TEST_CASE("HTTP/1.0 and later 1.x minor versions are accepted") {
  CHECK(parse_request("GET / HTTP/1.0\r\n\r\n")->head.version_minor == 0);
  auto r = parse_request(with_host("GET / HTTP/1.7"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.version_minor == 1);
}

TEST_CASE("a well-formed version other than 1.x is refused with 505") {
  for (const char* v : {"HTTP/2.0", "HTTP/0.9", "HTTP/3.1", "HTTP/9.9"}) {
    CAPTURE(v);
    CHECK(parse_request(with_host(std::string("GET / ") + v))->status() == 505);
  }
}

TEST_CASE("a malformed request line is refused with 400") {
  for (const char* line : {
           "GET  / HTTP/1.1",  // two spaces
           "GET /  HTTP/1.1",  // two spaces
           "GET / HTTP/1.1 ",  // trailing space
           "GET\t/ HTTP/1.1",  // tab separator
           "GET /\tHTTP/1.1",  // tab separator
           " GET / HTTP/1.1",  // leading space
           "GET /",            // HTTP/0.9
           "GET / http/1.1",   // lower-case name
           "GET / HTTP/1.10",  // two-digit minor
           "GET / HTTP/11",    // missing dot
           "GET / HTTP/1",     // missing minor
           "GET / HTTP/1.x",   // non-digit
           "G(T / HTTP/1.1",   // non-token method
           "GET",              // nothing else
           "/ HTTP/1.1",       // no method
           "GET / HTTP/1.1 extra",
       }) {
    CAPTURE(line);
    CHECK(parse_request(with_host(line))->status() == 400);
  }
}

TEST_CASE("a request line ended by a bare LF or a bare CR is refused with 400") {
  CHECK(parse_request("GET / HTTP/1.1\nHost: h\r\n\r\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\rHost: h\r\n\r\n")->status() == 400);
}

TEST_CASE("empty lines before the request line are skipped") {
  auto r = parse_request("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.path == "/");
}

TEST_CASE("a bare LF or more than eight empty lines before the request line is refused") {
  CHECK(parse_request("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")->status() == 400);
  CHECK(parse_request("\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")->status() == 400);
  std::string many;
  for (int i = 0; i < 9; ++i) many += "\r\n";
  CHECK(parse_request(many + "GET / HTTP/1.1\r\nHost: h\r\n\r\n")->status() == 400);
  CHECK(parse_request("\r\n\r\n")->status() == 400);
}

TEST_CASE("a request line longer than max_line is refused with 414") {
  ParseLimits limits;
  limits.max_line = 64;
  const std::string prefix = "GET /";
  const std::string suffix = " HTTP/1.1";
  const std::string fits(64 - prefix.size() - suffix.size(), 'a');
  CHECK(parse_request(with_host(prefix + fits + suffix), limits)->status() == 0);
  CHECK(parse_request(with_host(prefix + fits + "a" + suffix), limits)->status() == 414);
}

TEST_CASE("a head longer than max_head is refused with 431") {
  ParseLimits limits;
  limits.max_head = 100;
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(100, 'v') + "\r\n\r\n";
  CHECK(parse_request(head, limits)->status() == 431);
}

TEST_CASE("a head without its final empty line is refused with 400") {
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\r\n")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r")->status() == 400);
  CHECK(parse_request("")->status() == 400);
  CHECK(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\nX")->status() == 400);
}

TEST_CASE("request-target bytes outside visible ASCII are refused with 400") {
  for (const std::string& bad : std::vector<std::string>{
           "/a#frag", "/a\x7f", "/a\x01", std::string("/a\0b", 4), "/caf\xc3\xa9", "/a\x80"}) {
    CAPTURE(bad);
    CHECK(parse_request(with_host("GET " + bad + " HTTP/1.1"))->status() == 400);
  }
}

TEST_CASE("the query starts at the first '?' and may be empty") {
  auto r = parse_request(with_host("GET /p?a=1?b=2 HTTP/1.1"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.path == "/p");
  CHECK(r->head.query == "a=1?b=2");

  r = parse_request(with_host("GET /p? HTTP/1.1"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.has_query);
  CHECK(r->head.query.empty());

  r = parse_request(with_host("GET /p HTTP/1.1"));
  CHECK_FALSE(r->head.has_query);
}

TEST_CASE("the path is normalized and the target keeps path and query contiguous") {
  auto r = parse_request(with_host("GET /a/./b/../%63%2f?q=%2e HTTP/1.1"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.path == "/a/c%2F");
  CHECK(r->head.query == "q=%2e");
  CHECK(r->head.target == "/a/c%2F?q=%2e");
}

TEST_CASE("dot-segments that climb above the root are refused, encoded or not") {
  for (const char* t : {"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/", "/%2E%2E/", "/.%2e",
                        "/%2e./x", "/a/%2e%2e/%2e%2e"}) {
    CAPTURE(t);
    CHECK(parse_request(with_host(std::string("GET ") + t + " HTTP/1.1"))->status() == 400);
  }
}

TEST_CASE("invalid percent-escapes and %00 in the path are refused with 400") {
  for (const char* t : {"/a%", "/a%2", "/a%zz", "/%00", "/a%0"}) {
    CAPTURE(t);
    CHECK(parse_request(with_host(std::string("GET ") + t + " HTTP/1.1"))->status() == 400);
  }
}

TEST_CASE("asterisk-form is accepted only with OPTIONS") {
  auto r = parse_request(with_host("OPTIONS * HTTP/1.1"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.asterisk);
  CHECK(r->head.path == "*");
  CHECK(parse_request(with_host("GET * HTTP/1.1"))->status() == 400);
  CHECK(parse_request(with_host("OPTIONS *x HTTP/1.1"))->status() == 400);
}

TEST_CASE("CONNECT is refused with 501") {
  auto r = parse_request(with_host("CONNECT example.com:443 HTTP/1.1"));
  CHECK(r->status() == 501);
}

TEST_CASE("an absolute-form target gives the authority, overriding Host") {
  auto r = parse_request("GET http://origin.example:8080/x/../y?z HTTP/1.1\r\nHost: evil\r\n\r\n");
  REQUIRE(r->status() == 0);
  CHECK(r->head.authority == "origin.example:8080");
  CHECK(r->head.path == "/y");
  CHECK(r->head.query == "z");
  CHECK(r->head.target == "http://origin.example:8080/y?z");
}

TEST_CASE("absolute-form accepts https and any scheme case, and an empty path means '/'") {
  SUBCASE("https") {
    auto r = parse_request(with_host("GET https://a.example/p HTTP/1.1"));
    REQUIRE(r->status() == 0);
    CHECK(r->head.authority == "a.example");
    CHECK(r->head.path == "/p");
  }
  SUBCASE("upper-case scheme, no path") {
    auto r = parse_request(with_host("GET HTTP://a.example HTTP/1.1"));
    REQUIRE(r->status() == 0);
    CHECK(r->head.path == "/");
    CHECK_FALSE(r->head.has_query);
  }
  SUBCASE("query without path") {
    auto r = parse_request(with_host("GET hTtPs://a.example?x HTTP/1.1"));
    REQUIRE(r->status() == 0);
    CHECK(r->head.path == "/");
    CHECK(r->head.query == "x");
  }
}

TEST_CASE("an absolute-form target with a bad scheme or authority is refused with 400") {
  for (const char* t : {"ftp://a/", "http:/a/", "http://", "http:///p", "http://user@a/",
                        "http://a:b/", "http://a:/", "http://a:99999/", "http://[::1/",
                        "http://a b/", "http://a%zz/", "relative/path", "http:a"}) {
    CAPTURE(t);
    CHECK(parse_request(with_host(std::string("GET ") + t + " HTTP/1.1"))->status() == 400);
  }
}

TEST_CASE("an absolute-form target may carry an IPv6 literal") {
  auto r = parse_request(with_host("GET http://[2001:db8::1]:8443/ HTTP/1.1"));
  REQUIRE(r->status() == 0);
  CHECK(r->head.authority == "[2001:db8::1]:8443");
}

TEST_CASE("a refused head keeps its request line as received, whatever refused it") {
  using proxy::http::test::parse_request;
  for (const char* head :
       {"GET /a/%41/../b HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n",
        "GET /a/./b%7e HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "GET /a/%2e%2e/b HTTP/1.1\r\n\r\n",
        "GET /a/%2e%2e/../.. HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    CAPTURE(head);
    auto r = parse_request(head);
    CHECK(r->status() == 400);
    CHECK(r->buf == head);
  }
}

TEST_CASE("a request line that names no HTTP version is not HTTP (no answer is owed)") {
  using proxy::http::names_http_version;
  CHECK(names_http_version("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  CHECK(names_http_version("\r\nGET / HTTP/2.0\r\n\r\n"));  // wrong version, still HTTP: 505
  CHECK(names_http_version("GET /a b HTTP/1.1\r\n\r\n"));   // malformed, still HTTP: 400
  CHECK_FALSE(names_http_version("INVALID CONNECTION PREFACE\r\n\r\n"));  // h2spec 3.5
  CHECK(names_http_version("GET /echo\r\n\r\n"));                         // HTTP/0.9: 400
  CHECK(names_http_version("GET /echo http/1.1\r\n\r\n"));                // lower case: 400
  CHECK(names_http_version("GET /echo HTTP/1.1 x\r\n\r\n"));
  CHECK_FALSE(names_http_version("GET echo\r\n\r\n"));
  CHECK_FALSE(names_http_version("\x16\x03\x01\x02\x00\x01\r\n\r\n"));
  CHECK_FALSE(names_http_version(""));
}
