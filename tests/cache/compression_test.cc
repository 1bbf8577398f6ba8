// SPDX-License-Identifier: MIT
#include "cache/compression.h"

#include <brotli/decode.h>
#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

using cache::Coding;
using cache::CodingSet;

namespace {

struct StringSink final : cache::ByteSink {
  std::string bytes;
  bool write(const char* data, size_t len) override {
    bytes.append(data, len);
    return true;
  }
};

std::string gunzip(const std::string& in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 31) == Z_OK);
  std::string out(4 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int r = inflate(&z, Z_FINISH);
  CHECK(r == Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::string unbrotli(const std::string& in) {
  std::string out(4 << 20, '\0');
  size_t size = out.size();
  CHECK(BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &size,
                                reinterpret_cast<uint8_t*>(out.data())) ==
        BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

std::string sample_text(size_t n) {
  std::string s;
  while (s.size() < n)
    s += "<li class=\"repo\"><a href=\"/gitorious/mainline\">mainline</a></li>\n";
  s.resize(n);
  return s;
}

}  // namespace

TEST_CASE("RFC 9110 12.5.3: the coding with the highest qvalue is chosen, brotli on a tie") {
  const CodingSet both{true, true};
  CHECK(choose_coding("gzip, deflate, br", both) == Coding::kBrotli);
  CHECK(choose_coding("gzip, br;q=0.5", both) == Coding::kGzip);
  CHECK(choose_coding("br;q=0.8, gzip;q=0.9", both) == Coding::kGzip);
  CHECK(choose_coding("GZIP", both) == Coding::kGzip);
  CHECK(choose_coding("x-gzip", both) == Coding::kGzip);
}

TEST_CASE("RFC 9110 12.5.3: q=0 refuses a coding, and no field means identity") {
  const CodingSet both{true, true};
  CHECK(choose_coding("", both) == Coding::kIdentity);
  CHECK(choose_coding("br;q=0, gzip;q=0", both) == Coding::kIdentity);
  CHECK(choose_coding("br;q=0, gzip", both) == Coding::kGzip);
  CHECK(choose_coding("identity", both) == Coding::kIdentity);
  CHECK(choose_coding("deflate", both) == Coding::kIdentity);
}

TEST_CASE("RFC 9110 12.5.3: * stands for the codings not named") {
  const CodingSet both{true, true};
  CHECK(choose_coding("*", both) == Coding::kBrotli);
  CHECK(choose_coding("br;q=0, *", both) == Coding::kGzip);
  CHECK(choose_coding("*;q=0", both) == Coding::kIdentity);
}

TEST_CASE("a coding the operator did not enable is never chosen") {
  CHECK(choose_coding("br, gzip", CodingSet{true, false}) == Coding::kGzip);
  CHECK(choose_coding("br", CodingSet{true, false}) == Coding::kIdentity);
  CHECK(choose_coding("gzip, br", CodingSet{false, false}) == Coding::kIdentity);
}

TEST_CASE("malformed qvalues make the item count for nothing") {
  const CodingSet both{true, true};
  CHECK(choose_coding("br;q=2, gzip", both) == Coding::kGzip);
  CHECK(choose_coding("br;q=abc", both) == Coding::kIdentity);
  CHECK(choose_coding("br;q=0.0001", both) == Coding::kIdentity);
}

TEST_CASE("text, JSON, JavaScript, XML and SVG are compressible; images and archives are not") {
  for (const char* t : {"text/html", "text/html; charset=utf-8", "TEXT/CSS", "application/json",
                        "application/javascript", "application/vnd.api+json",
                        "application/atom+xml", "image/svg+xml", "application/wasm"})
    CHECK_MESSAGE(cache::compressible_type(t), t);
  for (const char* t : {"image/png", "image/jpeg", "application/gzip", "application/zip",
                        "application/x-git-upload-pack-result", "video/mp4", "font/woff2",
                        "application/octet-stream", "text/event-stream", "", "html"})
    CHECK_MESSAGE(!cache::compressible_type(t), t);
}

TEST_CASE("a body compressed in pieces decompresses to the same bytes (gzip and brotli)") {
  const std::string body = sample_text(300 * 1024);
  for (Coding c : {Coding::kGzip, Coding::kBrotli}) {
    CAPTURE(static_cast<int>(c));
    auto enc = cache::Compressor::make(c);
    REQUIRE(enc);
    StringSink sink;
    for (size_t pos = 0; pos < body.size(); pos += 7001)
      REQUIRE(enc->feed(body.data() + pos, std::min<size_t>(7001, body.size() - pos), sink));
    REQUIRE(enc->finish(sink));
    CHECK(sink.bytes.size() < body.size() / 10);
    CHECK((c == Coding::kGzip ? gunzip(sink.bytes) : unbrotli(sink.bytes)) == body);
  }
}

TEST_CASE("an empty body compresses to a valid empty stream") {
  for (Coding c : {Coding::kGzip, Coding::kBrotli}) {
    auto enc = cache::Compressor::make(c);
    StringSink sink;
    REQUIRE(enc->finish(sink));
    CHECK((c == Coding::kGzip ? gunzip(sink.bytes) : unbrotli(sink.bytes)).empty());
  }
}

TEST_CASE("a sink that refuses bytes stops the encoder") {
  struct Refuse final : cache::ByteSink {
    bool write(const char*, size_t) override { return false; }
  } refuse;
  auto enc = cache::Compressor::make(Coding::kGzip);
  const std::string body = sample_text(100 * 1024);
  bool ok = enc->feed(body.data(), body.size(), refuse);
  ok = ok && enc->finish(refuse);
  CHECK(!ok);
  CHECK(cache::Compressor::make(Coding::kIdentity) == nullptr);
}
