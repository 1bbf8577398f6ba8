// SPDX-License-Identifier: MIT
#include "cache/compressed_variant.h"

#include <brotli/decode.h>
#include <doctest/doctest.h>

#include <string>

namespace {

std::string page(size_t n) {
  std::string s;
  while (s.size() < n) s += "<tr><td>gitorious/mainline</td><td>3 commits</td></tr>\n";
  s.resize(n);
  return s;
}

cache::ObjectRef store(cache::Cache& c, const std::string& fields, const std::string& body) {
  cache::ObjectHead head;
  head.status = 200;
  head.fields = fields;
  head.body_size = body.size();
  head.host = "example.org";
  head.path = "/explore";
  // As the store stage keeps a compressible response: varying on Accept-Encoding, as the
  // identity variant.
  head.vary = "accept-encoding";
  auto key = cache::make_key("http", "example.org", "/explore", "", false, false);
  auto w = c.fill(key, head, false);
  REQUIRE(w);
  REQUIRE(w->append(body.data(), body.size()));
  auto obj = w->object();
  REQUIRE(w->commit());
  return obj;
}

std::string read_all(const cache::Object& o) {
  std::string out;
  while (out.size() < o.available()) {
    auto run = o.memory_at(out.size());
    REQUIRE(!run.empty());
    out.append(run);
  }
  return out;
}

}  // namespace

TEST_CASE("a compressible identity object gets a brotli variant that decodes to its body") {
  cache::Cache c(cache::CacheSettings{});
  const std::string body = page(50000);
  auto identity = store(c,
                        "Content-Type: text/html; charset=utf-8\r\nETag: \"v1\"\r\n"
                        "Content-Length: 50000\r\nCache-Control: public, max-age=60\r\n",
                        body);
  auto br = cache::compress_variant(c, identity, cache::Coding::kBrotli, "br");
  REQUIRE(br);
  CHECK(br->complete());
  CHECK(br->head().variant() == "br");
  CHECK(br->head().vary() == "accept-encoding");
  const std::string_view f = br->head().fields();
  CHECK(f.find("Content-Encoding: br\r\n") != std::string::npos);
  CHECK(f.find("Content-Length") == std::string::npos);
  CHECK(f.find("ETag: W/\"v1\"\r\n") != std::string::npos);
  CHECK(f.find("Vary: Accept-Encoding\r\n") != std::string::npos);
  const std::string packed = read_all(*br);
  CHECK(packed.size() < body.size() / 5);
  std::string out(body.size() + 16, '\0');
  size_t size = out.size();
  REQUIRE(BrotliDecoderDecompress(packed.size(), reinterpret_cast<const uint8_t*>(packed.data()),
                                  &size, reinterpret_cast<uint8_t*>(out.data())) ==
          BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  CHECK(out == body);
  // Stored beside the identity object: a lookup for the br variant finds it.
  auto found = c.lookup(identity->key(), [](std::string_view names) {
    return std::string(names == "accept-encoding" ? "br" : "");
  });
  REQUIRE(found);
  CHECK(found->head().variant() == "br");
}

TEST_CASE("already compressed, non-compressible or no-transform objects get no variant") {
  cache::Cache c(cache::CacheSettings{});
  const std::string body = page(4000);
  SUBCASE("an image") {
    auto o = store(c, "Content-Type: image/png\r\n", body);
    CHECK(!cache::may_compress(*o));
  }
  SUBCASE("already gzip") {
    auto o = store(c, "Content-Type: text/html\r\nContent-Encoding: gzip\r\n", body);
    CHECK(!cache::may_compress(*o));
  }
  SUBCASE("no-transform (RFC 9111 5.2.2.6)") {
    auto o = store(c, "Content-Type: text/html\r\nCache-Control: public, no-transform\r\n", body);
    CHECK(!cache::may_compress(*o));
    CHECK(cache::compress_variant(c, o, cache::Coding::kGzip, "gzip") == nullptr);
  }
  SUBCASE("text without a type") {
    auto o = store(c, "Cache-Control: public\r\n", body);
    CHECK(!cache::may_compress(*o));
    CHECK(!cache::compressible_object(o->head()));
  }
}

TEST_CASE("an object too large to compress on a hit is still one kept for compression") {
  cache::Cache c(cache::CacheSettings{});
  auto o = store(c, "Content-Type: text/html\r\n", page(4000));
  CHECK(cache::compressible_object(o->head()));
  CHECK(cache::may_compress(*o));
  cache::ObjectHead h = o->head().to_owned();
  h.status = 404;
  CHECK(!cache::compressible_object(h));
}

TEST_CASE("an existing Vary keeps its names and gains Accept-Encoding in sorted order") {
  cache::ObjectHead h;
  h.vary = "accept-language,origin";
  h.fields = "Vary: Accept-Language, Origin\r\nContent-Type: text/css\r\n";
  auto g = cache::compressed_head(h, cache::Coding::kGzip, "gzip");
  CHECK(g.vary == "accept-encoding,accept-language,origin");
  CHECK(g.fields.find("Content-Encoding: gzip\r\n") != std::string::npos);
  CHECK(g.fields.find("Vary: Accept-Encoding\r\n") != std::string::npos);
}
