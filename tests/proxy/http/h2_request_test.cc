// SPDX-License-Identifier: MIT
// H2RequestBuilder: HTTP/2 request header blocks as RequestHeads (RFC 9113 8.2, 8.3).
#include "proxy/http/h2_request.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

using proxy::http::Framing;
using proxy::http::H2RequestBuilder;
using proxy::http::Method;
using proxy::http::RequestHead;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Built {
  std::string block;
  RequestHead head;
  H2RequestBuilder builder;
  int status = 0;
  std::string reason;
};

std::unique_ptr<Built> build(const Fields& fields, bool end_stream = true,
                             size_t max_head = 16 * 1024, size_t cap = 32 * 1024) {
  auto b = std::make_unique<Built>();
  b->block.assign(cap, '\0');
  b->builder.begin(b->block.data(), cap, max_head, &b->head);
  for (const auto& [n, v] : fields) b->builder.add(n, v);
  auto r = b->builder.finish(end_stream);
  if (!r) {
    b->status = r.error().status;
    b->reason = r.error().reason;
  }
  return b;
}

Fields get(const std::string& path, Fields extra = {}) {
  Fields f{
      {":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", path}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

}  // namespace

TEST_CASE("a plain GET becomes the same head an HTTP/1.1 request would") {
  auto b = build(get("/a/b?x=1", {{"user-agent", "curl"}, {"accept", "*/*"}}));
  REQUIRE(b->status == 0);
  const RequestHead& h = b->head;
  CHECK(h.method == Method::kGet);
  CHECK(h.method_name == "GET");
  CHECK(h.target == "/a/b?x=1");
  CHECK(h.path == "/a/b");
  CHECK(h.has_query);
  CHECK(h.query == "x=1");
  CHECK(h.authority == "example.com");
  CHECK(h.framing == Framing::kNone);
  REQUIRE(h.headers.size() == 2);
  CHECK(h.headers[0].name == "user-agent");
  CHECK(h.headers[1].value == "*/*");
}

TEST_CASE("the views point into the caller's block, not into the decoder's buffers") {
  std::string path = "/x";
  auto b = build(get(path, {{"x-a", "1"}}));
  REQUIRE(b->status == 0);
  const char* lo = b->block.data();
  const char* hi = lo + b->block.size();
  for (auto v : {b->head.path, b->head.method_name, b->head.authority, b->head.headers[0].value})
    CHECK((v.data() >= lo && v.data() + v.size() <= hi));
}

TEST_CASE(":path is normalized with the HTTP/1 rules") {
  auto b = build(get("/a/./b/../%7Euser?q=%2F"));
  REQUIRE(b->status == 0);
  CHECK(b->head.path == "/a/~user");
  CHECK(b->head.query == "q=%2F");
  CHECK(b->head.target == "/a/~user?q=%2F");
  CHECK(build(get("/../etc/passwd"))->status == 400);
  CHECK(build(get("/a%00"))->status == 400);
}

TEST_CASE("a :path that is not origin-form is refused") {
  for (const char* p : {"", "a/b", "http://example.com/", "/a#frag", "/a b", "*"}) {
    CAPTURE(p);
    CHECK(build(get(p))->status == 400);
  }
  auto opt =
      build({{":method", "OPTIONS"}, {":scheme", "http"}, {":authority", "h"}, {":path", "*"}});
  REQUIRE(opt->status == 0);
  CHECK(opt->head.asterisk);
}

TEST_CASE("pseudo-header fields must be known, single, first and complete") {
  SUBCASE("missing") {
    CHECK(build({{":scheme", "https"}, {":authority", "h"}, {":path", "/"}})->status == 400);
    CHECK(build({{":method", "GET"}, {":authority", "h"}, {":path", "/"}})->status == 400);
    CHECK(build({{":method", "GET"}, {":scheme", "https"}, {":authority", "h"}})->status == 400);
  }
  SUBCASE("repeated") {
    CHECK(build(get("/", {{":path", "/"}}))->status == 400);
  }
  SUBCASE("after a regular field") {
    CHECK(build({{":method", "GET"},
                 {"accept", "*/*"},
                 {":scheme", "https"},
                 {":path", "/"},
                 {":authority", "h"}})
              ->status == 400);
  }
  SUBCASE("unknown or a response one") {
    CHECK(build(get("/", {{":status", "200"}}))->status == 400);
    CHECK(build({{":protocol", "websocket"},
                 {":method", "GET"},
                 {":scheme", "https"},
                 {":authority", "h"},
                 {":path", "/"}})
              ->status == 400);
  }
  SUBCASE("bad scheme or method") {
    CHECK(build({{":method", "GET"}, {":scheme", "ftp"}, {":authority", "h"}, {":path", "/"}})
              ->status == 400);
    CHECK(build({{":method", "G T"}, {":scheme", "http"}, {":authority", "h"}, {":path", "/"}})
              ->status == 400);
  }
}

TEST_CASE("CONNECT is not supported") {
  CHECK(build({{":method", "CONNECT"}, {":authority", "h:443"}})->status == 501);
}

TEST_CASE(":authority or Host gives the authority; both must agree") {
  auto host_only =
      build({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "a.example:8080"}});
  REQUIRE(host_only->status == 0);
  CHECK(host_only->head.authority == "a.example:8080");
  CHECK(build(get("/", {{"host", "EXAMPLE.com"}}))->status == 0);
  CHECK(build(get("/", {{"host", "other.example"}}))->status == 400);
  CHECK(build(get("/", {{"host", "example.com"}, {"host", "example.com"}}))->status == 400);
  CHECK(build({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}})->status == 400);
  CHECK(build({{":method", "GET"}, {":scheme", "http"}, {":authority", "user@h"}, {":path", "/"}})
            ->status == 400);
}

TEST_CASE("field names and values follow RFC 9113 8.2.1") {
  for (const auto& field : Fields{{"Accept", "x"},
                                  {"acc ept", "x"},
                                  {"", "x"},
                                  {"x-a", " leading"},
                                  {"x-a", "trailing\t"},
                                  {"x-a", "a\r\nb"},
                                  {"x-a", std::string("a\0b", 3)},
                                  {"x-a", "bell\x07"}}) {
    const std::string& n = field.first;
    const std::string& v = field.second;
    CAPTURE(n);
    CAPTURE(v);
    CHECK(build(get("/", {{n, v}}))->status == 400);
  }
  CHECK(build(get("/", {{"x-a", "caf\xc3\xa9 \tok"}}))->status == 0);
}

TEST_CASE("connection-specific fields are refused; TE only as trailers") {
  for (const char* n :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    CAPTURE(n);
    CHECK(build(get("/", {{n, "x"}}))->status == 400);
  }
  CHECK(build(get("/", {{"te", "trailers"}}))->status == 0);
  CHECK(build(get("/", {{"te", "gzip"}}))->status == 400);
}

TEST_CASE("content-length decides the framing; a body without one is sized at its end") {
  auto post = [](Fields extra, bool end_stream) {
    Fields f{{":method", "POST"}, {":scheme", "http"}, {":authority", "h"}, {":path", "/up"}};
    f.insert(f.end(), extra.begin(), extra.end());
    return build(f, end_stream);
  };
  auto with_length = post({{"content-length", "42"}}, false);
  REQUIRE(with_length->status == 0);
  CHECK(with_length->head.framing == Framing::kLength);
  CHECK(with_length->head.content_length == 42);
  auto without = post({}, false);
  REQUIRE(without->status == 0);
  CHECK(without->head.framing == Framing::kChunked);
  CHECK(post({}, true)->head.framing == Framing::kNone);
  CHECK(post({{"content-length", "0"}}, true)->status == 0);
  CHECK(post({{"content-length", "5"}}, true)->status == 400);
  CHECK(post({{"content-length", "5"}, {"content-length", "5"}}, false)->status == 400);
  CHECK(post({{"content-length", "-1"}}, false)->status == 400);
}

TEST_CASE("Expect: 100-continue is noted when a body follows; other expectations get 417") {
  Fields f{{":method", "PUT"},
           {":scheme", "http"},
           {":authority", "h"},
           {":path", "/"},
           {"expect", "100-continue"}};
  CHECK(build(f, false)->head.expect_continue);
  CHECK_FALSE(build(f, true)->head.expect_continue);
  CHECK(build(get("/", {{"expect", "magic"}}))->status == 417);
}

TEST_CASE("cookie crumbs are joined into one field, in order") {
  auto b = build(get("/", {{"cookie", "a=1"}, {"x-b", "2"}, {"cookie", "b=2"}, {"cookie", "c=3"}}));
  REQUIRE(b->status == 0);
  REQUIRE(b->head.headers.size() == 2);
  CHECK(b->head.headers[0].name == "x-b");
  CHECK(b->head.headers[1].name == "cookie");
  CHECK(b->head.headers[1].value == "a=1; b=2; c=3");
  auto one = build(get("/", {{"cookie", "only=1"}}));
  CHECK(one->head.headers[0].value == "only=1");
}

TEST_CASE("the header list is measured as HTTP/2 does and bounded by max_head") {
  SUBCASE("431 past the limit, and nothing more is copied") {
    Fields extra;
    for (int i = 0; i < 100; ++i) extra.push_back({"x-filler", std::string(100, 'a')});
    auto b = build(get("/", extra), true, 4096);
    CHECK(b->status == 431);
    CHECK(b->builder.list_size() > 100 * 100);
  }
  SUBCASE("an HPACK bomb: one huge value repeated is only counted") {
    Built b;
    b.block.assign(1024, '\0');
    b.builder.begin(b.block.data(), b.block.size(), 16 * 1024, &b.head);
    for (const auto& [n, v] : get("/")) b.builder.add(n, v);
    const std::string big(4000, 'z');
    for (int i = 0; i < 10000; ++i) b.builder.add("x-bomb", big);
    CHECK(b.builder.failed());
    CHECK(b.builder.list_size() > 40'000'000u);
    CHECK(b.builder.finish(true).error().status == 431);
  }
  SUBCASE("more fields than a HeaderList holds") {
    Fields extra;
    for (int i = 0; i < 200; ++i) extra.push_back({"x-" + std::to_string(i), "v"});
    CHECK(build(get("/", extra), true, 64 * 1024, 64 * 1024)->status == 431);
  }
}

TEST_CASE("extended CONNECT with :protocol websocket is a bodiless GET WebSocket handshake") {
  const Fields ws{{":method", "CONNECT"},  {":protocol", "websocket"},
                  {":scheme", "https"},    {":authority", "example.com"},
                  {":path", "/cable?x=1"}, {"sec-websocket-version", "13"}};
  auto b = build(ws, false);
  REQUIRE(b->status == 0);
  CHECK(b->head.method == Method::kGet);
  CHECK(b->head.method_name == "GET");
  CHECK(b->head.upgrade_websocket);
  CHECK(b->head.framing == Framing::kNone);
  CHECK(b->head.path == "/cable");
  CHECK(b->head.authority == "example.com");
  SUBCASE("refused: another protocol, :protocol on GET, a stream that ends, a body length") {
    Fields other = ws;
    other[1].second = "connect-udp";
    CHECK(build(other, false)->status == 501);
    Fields on_get = ws;
    on_get[0].second = "GET";
    CHECK(build(on_get, false)->status == 400);
    CHECK(build(ws, true)->status == 400);
    Fields with_length = ws;
    with_length.push_back({"content-length", "5"});
    CHECK(build(with_length, false)->status == 400);
  }
  SUBCASE("a GET is not a handshake") {
    CHECK_FALSE(build(get("/"))->head.upgrade_websocket);
  }
}
