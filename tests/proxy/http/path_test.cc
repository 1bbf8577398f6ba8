// SPDX-License-Identifier: MIT
// normalize_path (RFC 3986 6.2.2): escapes and dot-segments.
#include <doctest/doctest.h>

#include <string>

#include "proxy/http/parser.h"

namespace {

// The normalized path, or "!400" when refused.
std::string normalized(std::string path) {
  auto n = proxy::http::normalize_path(path.data(), path.size());
  if (!n) return "!" + std::to_string(n.error().status);
  return path.substr(0, *n);
}

}  // namespace

TEST_CASE("a path that is already normal is left as it is") {
  for (const char* p : {"/", "/a", "/a/b/", "/a.b/c..d/.e/f.", "/%2F", "/a//b", "//", "/~u/-_."}) {
    CAPTURE(p);
    CHECK(normalized(p) == p);
  }
}

TEST_CASE("percent-encoded unreserved characters are decoded") {
  CHECK(normalized("/%41%5a%61%7A%30%39%2D%2E%5F%7E") == "/AZaz09-._~");
  CHECK(normalized("/caf%c3%a9") == "/caf%C3%A9");
}

TEST_CASE("other escapes stay encoded with upper-case hex, encoded slashes included") {
  CHECK(normalized("/api/v4/projects/group%2fproject") == "/api/v4/projects/group%2Fproject");
  CHECK(normalized("/a%2F..%2Fb") == "/a%2F..%2Fb");
  CHECK(normalized("/%20%3f%23%25") == "/%20%3F%23%25");
}

TEST_CASE("dot-segments are removed") {
  CHECK(normalized("/a/./b") == "/a/b");
  CHECK(normalized("/a/b/../c") == "/a/c");
  CHECK(normalized("/a/b/..") == "/a/");
  CHECK(normalized("/a/b/.") == "/a/b/");
  CHECK(normalized("/.") == "/");
  CHECK(normalized("/./") == "/");
  CHECK(normalized("/a/..") == "/");
  CHECK(normalized("/a/../") == "/");
  CHECK(normalized("/a/b/c/../../d") == "/a/d");
  CHECK(normalized("/a/./././b") == "/a/b");
  CHECK(normalized("/a//../b") == "/a/b");
  CHECK(normalized("/a/.../b") == "/a/.../b");
}

TEST_CASE("encoded dots count as dots") {
  CHECK(normalized("/a/%2e/b") == "/a/b");
  CHECK(normalized("/a/b/%2E%2e/c") == "/a/c");
  CHECK(normalized("/a/.%2E") == "/");
}

TEST_CASE("a path that climbs above the root is refused, not clamped") {
  for (const char* p : {"/..", "/../", "/../a", "/a/../..", "/a/../../b", "/%2e%2e", "/%2E%2E/",
                        "/./..", "/a/b/../../../c"}) {
    CAPTURE(p);
    CHECK(normalized(p) == "!400");
  }
}

TEST_CASE("invalid escapes, %00 and a relative path are refused") {
  for (const char* p : {"/%", "/%4", "/%4g", "/%g4", "/a%", "/%00", "/a%00b", "", "a/b", "%2Fa"}) {
    CAPTURE(p);
    CHECK(normalized(p) == "!400");
  }
}

TEST_CASE("normalization never lengthens the path and always starts with '/'") {
  for (const char* p : {"/%7e", "/./.", "/a/%2e%2e/", "/%2f"}) {
    CAPTURE(p);
    const std::string n = normalized(p);
    CHECK(n.size() <= std::string(p).size());
    CHECK(n.front() == '/');
  }
}

TEST_CASE("escapes and dot-segments deep in a path are normalized like early ones") {
  CHECK(normalized("/abc/def/%7e") == "/abc/def/~");
  CHECK(normalized("/abc/def%2f/./x") == "/abc/def%2F/x");
  CHECK(normalized("/abc/def/ghi/..") == "/abc/def/");
  CHECK(normalized("/abc.d/e.f/.g/%2e") == "/abc.d/e.f/.g/");
  CHECK(normalized("/abc/x%2e%2E/../y") == "/abc/y");
  CHECK(normalized("/abc/../../%41") == "!400");
}

TEST_CASE("a refused path is left as received (the logs show it)") {
  for (const char* p : {"/a/%41/%zz", "/%2e%2E/x", "/a/./../../b", "/x%41/%00", "/a/%2e%2e/../x"}) {
    CAPTURE(p);
    std::string path = p;
    CHECK_FALSE(proxy::http::normalize_path(path.data(), path.size()));
    CHECK(path == p);
  }
}
