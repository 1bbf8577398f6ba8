// SPDX-License-Identifier: MIT
// HeaderList and the field helpers (RFC 9110 5, 7.6.1).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy/http/headers.h"

using proxy::http::HeaderList;
using proxy::http::iequals;

TEST_CASE("field names compare ASCII case-insensitively") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("Host", "Hos"));
  CHECK_FALSE(iequals("Host", "Hosu"));
  CHECK_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // no Unicode folding
  CHECK_FALSE(iequals("a[", "A{"));              // '[' is not a case of '{'
}

TEST_CASE("find returns the first field of a name and count counts them all") {
  HeaderList h;
  h.push("Via", "1");
  h.push("Set-Cookie", "a=1");
  h.push("set-cookie", "b=2");
  REQUIRE(h.find("SET-COOKIE") != nullptr);
  CHECK(h.find("SET-COOKIE")->value == "a=1");
  CHECK(h.count("Set-Cookie") == 2);
  CHECK(h.find("Age") == nullptr);
  CHECK(h.count("Age") == 0);
}

TEST_CASE("a HeaderList refuses fields past its capacity") {
  HeaderList h;
  for (size_t i = 0; i < HeaderList::kCapacity; ++i) REQUIRE(h.push("X", "y"));
  CHECK_FALSE(h.push("X", "y"));
  CHECK(h.size() == HeaderList::kCapacity);
  h.clear();
  CHECK(h.size() == 0);
}

TEST_CASE("list_contains finds a token among trimmed list elements") {
  CHECK(proxy::http::list_contains("close", "close"));
  CHECK(proxy::http::list_contains("Upgrade, Close", "close"));
  CHECK(proxy::http::list_contains(" ,\tkeep-alive ,", "Keep-Alive"));
  CHECK_FALSE(proxy::http::list_contains("closed", "close"));
  CHECK_FALSE(proxy::http::list_contains("clo se", "close"));
  CHECK_FALSE(proxy::http::list_contains("", "close"));
}

TEST_CASE("for_each_list_item skips empty elements") {
  std::vector<std::string> items;
  proxy::http::for_each_list_item(" a ,, b,\t,c ",
                                  [&](std::string_view s) { items.emplace_back(s); });
  CHECK(items == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("hop-by-hop fields are recognized in any case and end-to-end ones are not") {
  for (const char* name :
       {"Connection", "keep-alive", "Proxy-Connection", "te", "Trailer", "TRANSFER-ENCODING",
        "Upgrade", "Proxy-Authenticate", "proxy-authorization"}) {
    CAPTURE(name);
    CHECK(proxy::http::is_hop_by_hop(name));
  }
  for (const char* name : {"Host", "Content-Length", "Trailers", "Authorization", "Cookie", "T",
                           "Via", "Upgrade-Insecure-Requests"}) {
    CAPTURE(name);
    CHECK_FALSE(proxy::http::is_hop_by_hop(name));
  }
}
