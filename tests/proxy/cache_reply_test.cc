// SPDX-License-Identifier: MIT
// A stored object's reply to a request: preconditions (RFC 9110 13.2.2, 15.4.5), ranges (14.2,
// 14.6, 15.3.7, 15.5.17), HEAD, and the heads written for HTTP/1.1 and HTTP/2.
#include "proxy/cache_reply.h"

#include <doctest/doctest.h>

#include <string>

#include "proxy/io/head_builder.h"

using proxy::CacheReply;
using proxy::http::Method;
using Kind = CacheReply::Kind;

namespace {

constexpr std::string_view kBody = "0123456789";

struct Fixture {
  proxy::http::RequestHead req;
  cache::ObjectHead head;
  proxy::http::HeaderList stored;
  Fixture() {
    req.method = Method::kGet;
    req.method_name = "GET";
    stored.push("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    stored.push("Last-Modified", "Sun, 06 Nov 1994 08:00:00 GMT");
    stored.push("ETag", "\"v1\"");
    stored.push("Content-Type", "text/plain");
    stored.push("Cache-Control", "max-age=60");
    stored.push("Content-Length", "10");
    stored.push("Age", "5");
    stored.push("X-Cache", "MISS");
    stored.push("X-App", "yes");
  }
  CacheReply plan(uint64_t size = kBody.size(), bool complete = true) {
    return proxy::plan_reply(req, head, stored, size, complete);
  }
};

// The body bytes the plan produces, from kBody.
std::string render(const CacheReply& r) {
  std::string out;
  for (size_t i = 0; i < r.segment_count; ++i) {
    const auto& s = r.segments[i];
    if (s.literal)
      out += r.literal.substr(s.offset, s.length);
    else
      out += kBody.substr(s.offset, s.length == proxy::kUnknownSize ? std::string::npos : s.length);
  }
  return out;
}

std::string http1(const CacheReply& r, const proxy::http::HeaderList& stored, int minor = 1,
                  bool close = false, proxy::Http1Framing* framing = nullptr) {
  char buf[4096];
  proxy::io::HeadBuilder h(buf, sizeof buf);
  proxy::ReplyFields f;
  f.age = 7;
  f.status_header = "X-Cache";
  f.status_value = "HIT";
  f.date = "Mon, 07 Nov 1994 00:00:00 GMT";
  const auto fr = proxy::write_http1_head(r, stored, f, minor, close, h);
  if (framing) *framing = fr;
  REQUIRE(h.ok());
  return std::string(h.view());
}

bool has(const std::string& head, std::string_view line) {
  return head.find(std::string(line) + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "a plain GET gets the stored status, fields and whole body, with Age and no stored framing") {
  Fixture fx;
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kFull);
  CHECK(r.status == 200);
  CHECK(r.content_length == 10);
  CHECK(render(r) == kBody);
  CHECK(r.body_bytes() == 10);
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(has(h, "ETag: \"v1\""));
  CHECK(has(h, "X-App: yes"));
  CHECK(has(h, "Date: Sun, 06 Nov 1994 08:49:37 GMT"));  // the stored Date, not now
  CHECK(has(h, "Age: 7"));
  CHECK(h.find("Age: 5") == std::string::npos);  // RFC 9111 5.1: the cache's own Age
  CHECK(has(h, "X-Cache: HIT"));
  CHECK(h.find("MISS") == std::string::npos);
  CHECK(has(h, "Via: 1.1 gatehouse"));
  CHECK(has(h, "Content-Length: 10"));
  CHECK(h.find("Content-Length") == h.rfind("Content-Length"));
  CHECK(h.find("Connection") == std::string::npos);
  CHECK(h.size() >= 4);
  CHECK(h.substr(h.size() - 4) == "\r\n\r\n");
}

TEST_CASE("a stored head without Date gets one (RFC 9110 6.6.1)") {
  Fixture fx;
  fx.stored.erase("date");
  const std::string h = http1(fx.plan(), fx.stored);
  CHECK(has(h, "Date: Mon, 07 Nov 1994 00:00:00 GMT"));
}

TEST_CASE("HEAD is answered from a stored GET: the same head, the full Content-Length, no body") {
  Fixture fx;
  fx.req.method = Method::kHead;
  SUBCASE("plain") {}
  SUBCASE("with Range: ignored, Range is for GET only (RFC 9110 14.2)") {
    fx.req.headers.push("Range", "bytes=0-1");
  }
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kFull);
  CHECK(r.head_only);
  CHECK(r.segment_count == 0);
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(has(h, "Content-Length: 10"));
  CHECK(has(h, "Age: 7"));
}

TEST_CASE("a conditional GET that matches is answered 304 with only the fields 15.4.5 names") {
  Fixture fx;
  SUBCASE("If-None-Match") {
    fx.req.headers.push("If-None-Match", "\"x\", W/\"v1\"");
  }
  SUBCASE("If-Modified-Since") {
    fx.req.headers.push("If-Modified-Since", "Sun, 06 Nov 1994 08:00:00 GMT");
  }
  SUBCASE("HEAD with If-None-Match") {
    fx.req.method = Method::kHead;
    fx.req.headers.push("If-None-Match", "\"v1\"");
  }
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kNotModified);
  CHECK(r.status == 304);
  CHECK(r.segment_count == 0);
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  CHECK(has(h, "ETag: \"v1\""));
  CHECK(has(h, "Cache-Control: max-age=60"));
  CHECK(has(h, "Date: Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK(has(h, "Age: 7"));
  CHECK(h.find("Content-Type") == std::string::npos);
  CHECK(h.find("X-App") == std::string::npos);
  CHECK(h.find("Content-Length") == std::string::npos);
  CHECK(h.find("Transfer-Encoding") == std::string::npos);
}

TEST_CASE("preconditions are ignored when the stored response is not a 2xx (RFC 9110 13.2.1)") {
  Fixture fx;
  fx.head.status = 404;
  fx.req.headers.push("If-None-Match", "\"v1\"");
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kFull);
  CHECK(r.status == 404);
  CHECK(render(r) == kBody);
}

TEST_CASE("a conditional GET that does not match gets the whole 200") {
  Fixture fx;
  fx.req.headers.push("If-None-Match", "\"other\"");
  CHECK(fx.plan().kind == Kind::kFull);
}

TEST_CASE("a failed If-Match is answered 412 with an empty body") {
  Fixture fx;
  fx.req.headers.push("If-Match", "\"other\"");
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kPreconditionFailed);
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 412 Precondition Failed\r\n", 0) == 0);
  CHECK(has(h, "Content-Length: 0"));
  CHECK(h.find("ETag") == std::string::npos);
  CHECK(has(h, "Date: Mon, 07 Nov 1994 00:00:00 GMT"));  // its own, now
  CHECK(r.segment_count == 0);
}

TEST_CASE("one range is answered 206 with Content-Range and the stored fields") {
  Fixture fx;
  SUBCASE("first-last") {
    fx.req.headers.push("Range", "bytes=2-5");
  }
  SUBCASE("If-Range with the strong ETag") {
    fx.req.headers.push("Range", "bytes=2-5");
    fx.req.headers.push("If-Range", "\"v1\"");
  }
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kPartial);
  CHECK(r.status == 206);
  CHECK(render(r) == "2345");
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 206 Partial Content\r\n", 0) == 0);
  CHECK(has(h, "Content-Range: bytes 2-5/10"));
  CHECK(has(h, "Content-Length: 4"));
  CHECK(has(h, "Content-Type: text/plain"));
  CHECK(has(h, "ETag: \"v1\""));
}

TEST_CASE("a whole stored response keeps its own Content-Range field (RFC 9111 3.1)") {
  Fixture fx;
  fx.stored.push("Content-Range", "bytes 0-9/20");
  const std::string whole = http1(fx.plan(), fx.stored);
  CHECK(has(whole, "Content-Range: bytes 0-9/20"));
  fx.req.headers.push("Range", "bytes=2-5");
  const std::string part = http1(fx.plan(), fx.stored);
  CHECK(has(part, "Content-Range: bytes 2-5/10"));
  CHECK(part.find("0-9/20") == std::string::npos);
}

TEST_CASE("a suffix range and an open range are 206 too") {
  Fixture fx;
  SUBCASE("suffix") {
    fx.req.headers.push("Range", "bytes=-3");
    CHECK(render(fx.plan()) == "789");
  }
  SUBCASE("open") {
    fx.req.headers.push("Range", "bytes=8-");
    CHECK(render(fx.plan()) == "89");
  }
}

TEST_CASE("several ranges are answered multipart/byteranges exactly as RFC 9110 14.6 shows") {
  Fixture fx;
  fx.req.headers.push("Range", "bytes=0-1,5-6");
  const auto r = fx.plan();
  REQUIRE(r.kind == Kind::kMultipart);
  CHECK(r.status == 206);
  const std::string b(r.boundary_view());
  CHECK(b.size() >= 16);
  const std::string expected = "--" + b +
                               "\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Range: bytes 0-1/10\r\n"
                               "\r\n"
                               "01"
                               "\r\n--" +
                               b +
                               "\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Range: bytes 5-6/10\r\n"
                               "\r\n"
                               "56"
                               "\r\n--" +
                               b + "--\r\n";
  const std::string body = render(r);
  CHECK(body == expected);
  CHECK(r.content_length == body.size());
  CHECK(r.body_bytes() == body.size());
  const std::string h = http1(r, fx.stored);
  CHECK(has(h, "Content-Type: multipart/byteranges; boundary=" + b));
  CHECK(h.find("Content-Type: text/plain") == std::string::npos);  // it moved into the parts
  CHECK(has(h, "Content-Length: " + std::to_string(body.size())));
  CHECK(h.find("Content-Range") == std::string::npos);
  // The same stored response gets the same boundary (the plan is pure).
  CHECK(std::string(fx.plan().boundary_view()) == b);
}

TEST_CASE("a multipart part has no Content-Type when the stored response has none") {
  Fixture fx;
  fx.stored.erase("content-type");
  fx.req.headers.push("Range", "bytes=0-0,9-9");
  const auto r = fx.plan();
  const std::string body = render(r);
  CHECK(body.find("Content-Type") == std::string::npos);
  CHECK(body.find("Content-Range: bytes 9-9/10\r\n\r\n9\r\n") != std::string::npos);
  CHECK(r.content_length == body.size());
}

TEST_CASE("an unsatisfiable range is answered 416 with Content-Range: bytes */size") {
  Fixture fx;
  fx.req.headers.push("Range", "bytes=20-30");
  const auto r = fx.plan();
  CHECK(r.kind == Kind::kUnsatisfiable);
  CHECK(r.segment_count == 0);
  const std::string h = http1(r, fx.stored);
  CHECK(h.rfind("HTTP/1.1 416 Range Not Satisfiable\r\n", 0) == 0);
  CHECK(has(h, "Content-Range: bytes */10"));
  CHECK(has(h, "Content-Length: 0"));
}

TEST_CASE("RFC 9110 14.2: a Range of an object still filling, of a known size, gets its 206") {
  Fixture fx;
  fx.req.headers.push("Range", "bytes=2-5");
  const auto r = fx.plan(10, false);
  CHECK(r.kind == Kind::kPartial);
  CHECK(r.status == 206);
  CHECK(r.content_length == 4);
}

TEST_CASE("Range is ignored and the whole 200 sent when it cannot apply") {
  Fixture fx;
  fx.req.headers.push("Range", "bytes=2-5");
  SUBCASE("If-Range names another ETag") {
    fx.req.headers.push("If-Range", "\"v0\"");
    CHECK(fx.plan().kind == Kind::kFull);
  }
  SUBCASE("If-Range with a weak ETag never holds") {
    fx.req.headers.push("If-Range", "W/\"v1\"");
    CHECK(fx.plan().kind == Kind::kFull);
  }
  SUBCASE("the size is not known") {
    CHECK(fx.plan(proxy::kUnknownSize, false).kind == Kind::kFull);
  }
  SUBCASE("the stored status is not 200") {
    fx.head.status = 404;
    const auto r = fx.plan();
    CHECK(r.kind == Kind::kFull);
    CHECK(r.status == 404);
    CHECK(http1(r, fx.stored).rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  }
  SUBCASE("not a bytes range") {
    fx.req.headers.erase("range");
    fx.req.headers.push("Range", "items=1-2");
    CHECK(fx.plan().kind == Kind::kFull);
  }
}

TEST_CASE("a body of unknown length is chunked for HTTP/1.1 and closed for HTTP/1.0") {
  Fixture fx;
  const auto r = fx.plan(proxy::kUnknownSize, false);
  CHECK_FALSE(r.length_known);
  REQUIRE(r.segment_count == 1);
  CHECK(r.segments[0].length == proxy::kUnknownSize);
  CHECK(r.body_bytes() == proxy::kUnknownSize);
  proxy::Http1Framing fr;
  std::string h = http1(r, fx.stored, 1, false, &fr);
  CHECK(fr.chunked);
  CHECK_FALSE(fr.close_after);
  CHECK(has(h, "Transfer-Encoding: chunked"));
  CHECK(h.find("Content-Length") == std::string::npos);
  h = http1(r, fx.stored, 0, false, &fr);
  CHECK_FALSE(fr.chunked);
  CHECK(fr.close_after);
  CHECK(has(h, "Connection: close"));
}

TEST_CASE("Connection handling follows the deliver stage's") {
  Fixture fx;
  const auto r = fx.plan();
  CHECK(has(http1(r, fx.stored, 1, true), "Connection: close"));
  CHECK(has(http1(r, fx.stored, 0, false), "Connection: keep-alive"));
  fx.stored.push("Connection", "close");
  fx.stored.push("Keep-Alive", "timeout=5");
  const std::string h = http1(r, fx.stored, 1, false);
  CHECK(h.find("Connection") == std::string::npos);
  CHECK(h.find("Keep-Alive") == std::string::npos);
}

TEST_CASE("a 204 stored response gets no Content-Length and no body") {
  Fixture fx;
  fx.head.status = 204;
  const auto r = fx.plan(0);
  CHECK(r.segment_count == 0);
  const std::string h = http1(r, fx.stored);
  CHECK(h.find("Content-Length") == std::string::npos);
  CHECK(h.find("Transfer-Encoding") == std::string::npos);
}

TEST_CASE("the HTTP/2 fields: :status first, lower-case names, no connection fields") {
  Fixture fx;
  fx.stored.push("Connection", "close");
  fx.req.headers.push("Range", "bytes=2-5");
  const auto r = fx.plan();
  proxy::H2Field out[64];
  char buf[2048];
  proxy::ReplyFields f;
  f.age = 3;
  f.status_header = "X-Cache";
  f.status_value = "STALE";
  const size_t n = proxy::http2_fields(r, fx.stored, f, out, 64, buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(out[0].name == ":status");
  CHECK(out[0].value == "206");
  auto value = [&](std::string_view name) -> std::string {
    for (size_t i = 0; i < n; ++i)
      if (out[i].name == name) return std::string(out[i].value);
    return "<none>";
  };
  for (size_t i = 1; i < n; ++i) {
    for (char c : out[i].name) CHECK_FALSE((c >= 'A' && c <= 'Z'));
  }
  CHECK(value("etag") == "\"v1\"");
  CHECK(value("age") == "3");
  CHECK(value("x-cache") == "STALE");
  CHECK(value("via") == "1.1 gatehouse");
  CHECK(value("content-range") == "bytes 2-5/10");
  CHECK(value("content-length") == "4");
  CHECK(value("connection") == "<none>");
  SUBCASE("a buffer too small for the names gives nothing") {
    CHECK(proxy::http2_fields(r, fx.stored, f, out, 64, buf, 8) == 0);
  }
  SUBCASE("multipart") {
    fx.req.headers.erase("range");
    fx.req.headers.push("Range", "bytes=0-0,2-2");
    const auto m = fx.plan();
    const size_t k = proxy::http2_fields(m, fx.stored, f, out, 64, buf, sizeof buf);
    REQUIRE(k > 0);
    std::string type;
    for (size_t i = 0; i < k; ++i)
      if (out[i].name == "content-type") type = std::string(out[i].value);
    CHECK(type == "multipart/byteranges; boundary=" + std::string(m.boundary_view()));
  }
}
