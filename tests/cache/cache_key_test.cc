// SPDX-License-Identifier: MIT
#include "cache/cache_key.h"

#include <doctest/doctest.h>

#include <string>

using cache::CacheKey;
using cache::key_for_url;
using cache::make_key;

namespace {

CacheKey k(std::string_view scheme, std::string_view host, std::string_view path,
           bool include_scheme = false) {
  return make_key(scheme, host, path, "", false, include_scheme);
}

}  // namespace

TEST_CASE("the key ignores the host's case, a default port and a trailing dot") {
  const CacheKey base = k("http", "example.com", "/a");
  CHECK(k("http", "EXAMPLE.com", "/a") == base);
  CHECK(k("http", "example.com:80", "/a") == base);
  CHECK(k("http", "example.com.", "/a") == base);
  CHECK(k("http", "example.com.:80", "/a") == base);
  CHECK(k("https", "example.com:443", "/a") == base);
  CHECK(k("http", "example.com:", "/a") == base);
}

TEST_CASE("a non-default port, another path or path case makes another key") {
  const CacheKey base = k("http", "example.com", "/a");
  CHECK(k("http", "example.com:8080", "/a") != base);
  CHECK(k("http", "example.com:443", "/a") != base);  // 443 is not http's default
  CHECK(k("http", "example.com", "/A") != base);
  CHECK(k("http", "other.com", "/a") != base);
  CHECK(k("http", "[::1]:80", "/a") == k("http", "[::1]", "/a"));
  CHECK(k("http", "[::1]", "/a") != k("http", "[::2]", "/a"));
}

TEST_CASE("a '?' with an empty query is another target than none") {
  CHECK(make_key("http", "h", "/a", "", true, false) !=
        make_key("http", "h", "/a", "", false, false));
  CHECK(make_key("http", "h", "/a", "x=1", true, false) !=
        make_key("http", "h", "/a", "x=2", true, false));
}

TEST_CASE("the scheme is part of the key only when HTTP and HTTPS are not shared") {
  CHECK(k("http", "h", "/a", false) == k("https", "h", "/a", false));
  CHECK(k("http", "h", "/a", true) != k("https", "h", "/a", true));
  CHECK(k("HTTP", "h", "/a", true) == k("http", "h", "/a", true));
}

TEST_CASE("a long key hashes through the streaming state to the same kind of value") {
  const std::string long_path = "/" + std::string(5000, 'x');
  const CacheKey a = k("http", "h", long_path);
  CHECK(a == k("http", "H", long_path));
  CHECK(a != k("http", "h", long_path + "y"));
  const std::string long_host(3000, 'A');
  CHECK(k("http", long_host, "/") == k("http", std::string(3000, 'a'), "/"));
}

TEST_CASE("key_for_url reads absolute URLs and absolute paths") {
  CacheKey out;
  REQUIRE(key_for_url("http://Example.com:80/a?x=1", "https", "ignored", false, out));
  CHECK(out == make_key("http", "example.com", "/a", "x=1", true, false));
  REQUIRE(key_for_url("https://example.com", "http", "ignored", true, out));
  CHECK(out == make_key("https", "example.com", "/", "", false, true));
  REQUIRE(key_for_url("/b?", "http", "host.test", false, out));
  CHECK(out == make_key("http", "host.test", "/b", "", true, false));
  REQUIRE(key_for_url("/c#frag", "http", "host.test", false, out));
  CHECK(out == make_key("http", "host.test", "/c", "", false, false));
  CHECK_FALSE(key_for_url("ftp://x/y", "http", "h", false, out));
  CHECK_FALSE(key_for_url("relative/path", "http", "h", false, out));
  CHECK_FALSE(key_for_url("", "http", "h", false, out));
  CHECK_FALSE(key_for_url("http:///nohost", "http", "h", false, out));
}
