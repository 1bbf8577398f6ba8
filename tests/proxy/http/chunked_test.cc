// SPDX-License-Identifier: MIT
// ChunkedDecoder (RFC 9112 7.1), fed in every split an attacker or a slow network could choose.
#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "proxy/http/parser.h"

using proxy::http::ChunkedDecoder;
using Status = ChunkedDecoder::Status;

namespace {

struct Decoded {
  Status status = Status::kNeedMore;  // kDone, kError, or kNeedMore if the input ran out
  std::string data;
  size_t consumed = 0;  // input bytes used in total
};

// Feeds `in` in pieces ending at each of `cuts` (ascending) and at the end, each piece to
// exhaustion, checking the feed() contract on the way.
Decoded decode(const std::string& in, const std::vector<size_t>& cuts,
               ChunkedDecoder dec = ChunkedDecoder()) {
  Decoded out;
  size_t pos = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(in.size());
  for (size_t end : ends) {
    while (pos < end) {
      const std::string_view piece(in.data() + pos, end - pos);
      const ChunkedDecoder::Result r = dec.feed(piece);
      REQUIRE(r.consumed <= piece.size());
      pos += r.consumed;
      out.consumed = pos;
      if (r.status == Status::kData) {
        REQUIRE(r.data_len > 0);
        REQUIRE(r.data_off + r.data_len == r.consumed);
        out.data.append(piece.substr(r.data_off, r.data_len));
        continue;
      }
      if (r.status == Status::kNeedMore) {
        REQUIRE(r.consumed == piece.size());
        continue;
      }
      out.status = r.status;
      CHECK(dec.done() == (r.status == Status::kDone));
      return out;
    }
  }
  return out;
}

Decoded decode(const std::string& in) {
  return decode(in, {});
}

// Decodes `in` whole, split in two at every point, and one byte at a time; all must agree.
Decoded decode_every_split(const std::string& in) {
  const Decoded whole = decode(in);
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    CAPTURE(cut);
    const Decoded d = decode(in, {cut});
    CHECK(d.status == whole.status);
    CHECK(d.data == whole.data);
    CHECK(d.consumed == whole.consumed);
  }
  std::vector<size_t> bytes;
  for (size_t i = 1; i < in.size(); ++i) bytes.push_back(i);
  const Decoded d = decode(in, bytes);
  CHECK(d.status == whole.status);
  CHECK(d.data == whole.data);
  CHECK(d.consumed == whole.consumed);
  return whole;
}

}  // namespace

TEST_CASE("a chunked body decodes identically under every split of its input") {
  const std::string body =
      "5\r\nhello\r\n1;ext=val ; other = \"q\\\"uoted\"\r\n \r\nA\r\n0123456789\r\n"
      "0\r\nX-Trailer: yes\r\nOther:\r\n\r\n";
  const Decoded d = decode_every_split(body);
  CHECK(d.status == Status::kDone);
  CHECK(d.data == "hello 0123456789");
  CHECK(d.consumed == body.size());
}

TEST_CASE("the last chunk alone ends the body") {
  const Decoded d = decode_every_split("0\r\n\r\n");
  CHECK(d.status == Status::kDone);
  CHECK(d.data.empty());
  CHECK(decode("000\r\n\r\n").status == Status::kDone);
}

TEST_CASE("bytes after the end of the body are left for the next message") {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  const Decoded d = decode_every_split(body + "GET / HTTP/1.1\r\n");
  CHECK(d.status == Status::kDone);
  CHECK(d.consumed == body.size());
  ChunkedDecoder dec;
  dec.feed("0\r\n\r\n");
  REQUIRE(dec.done());
  const auto again = dec.feed("more");
  CHECK(again.status == Status::kDone);
  CHECK(again.consumed == 0);
}

TEST_CASE("each feed returns at most one data span and stops right after it") {
  ChunkedDecoder dec;
  const std::string in = "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
  auto r = dec.feed(in);
  REQUIRE(r.status == Status::kData);
  CHECK(r.data_off == 3);
  CHECK(r.data_len == 2);
  CHECK(r.consumed == 5);
  r = dec.feed(std::string_view(in).substr(5));
  REQUIRE(r.status == Status::kData);
  CHECK(in.substr(5 + r.data_off, r.data_len) == "cd");
}

TEST_CASE("hex sizes are case-insensitive and 16 digits are accepted") {
  CHECK(decode("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n").data.size() == 20);
  ChunkedDecoder dec;
  const auto r = dec.feed("FFFFFFFFFFFFFFFF\r\nabc");
  CHECK(r.status == Status::kData);
  CHECK(r.data_len == 3);
  CHECK(decode("0000000000000001\r\nx\r\n0\r\n\r\n").status == Status::kDone);
}

TEST_CASE("a chunk size of more than 16 significant hex digits is refused") {
  CHECK(decode("10000000000000000\r\n").status == Status::kError);
  CHECK(decode("1FFFFFFFFFFFFFFFF\r\n").status == Status::kError);
}

TEST_CASE("leading zeros of a chunk size do not count against its length") {
  const Decoded d = decode_every_split(
      "0000000000000000000005\r\nhello\r\n"
      "00000000000000000000000000000000\r\n\r\n");
  CHECK(d.status == Status::kDone);
  CHECK(d.data == "hello");
  CHECK(decode("00000000000000001\r\nx\r\n0\r\n\r\n").status == Status::kDone);
  ChunkedDecoder dec;
  CHECK(dec.feed("0000FFFFFFFFFFFFFFFF\r\nab").status == Status::kData);
  CHECK(decode("00000000000000000"
               "10000000000000000\r\n")
            .status == Status::kError);
}

TEST_CASE("a chunk that cannot fit the body limit is refused as soon as its size says so") {
  ChunkedDecoder dec;
  dec.reset(10);
  // 4 GiB: refused at its digits, before the line ends or any data comes.
  auto r = dec.feed("100000000");
  CHECK(r.status == Status::kError);
  CHECK(dec.over_limit());
  SUBCASE("2^64-19 bytes") {
    dec.reset(1024);
    CHECK(dec.feed("ffffffffffffffed\r\n").status == Status::kError);
    CHECK(dec.over_limit());
  }
  SUBCASE("the body so far counts") {
    dec.reset(10);
    r = dec.feed("6\r\nabcdef\r\n");
    CHECK(r.status == Status::kData);
    CHECK(dec.feed("\r\n").status == Status::kNeedMore);
    r = dec.feed("5\r\n");
    CHECK(r.status == Status::kError);
    CHECK(dec.over_limit());
  }
  SUBCASE("a body of exactly the limit is fine") {
    dec.reset(10);
    const Decoded d = decode("0006\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n", {}, dec);
    CHECK(d.status == Status::kDone);
    CHECK(d.data == "abcdefghij");
  }
  SUBCASE("a malformed size is not an over-limit one") {
    dec.reset(10);
    CHECK(dec.feed("x\r\n").status == Status::kError);
    CHECK_FALSE(dec.over_limit());
  }
}

TEST_CASE("malformed chunk size lines are refused") {
  for (const std::string& in : std::vector<std::string>{"\r\n",
                                                        "x\r\n",
                                                        "-1\r\n",
                                                        "+1\r\nx\r\n",
                                                        "0x1\r\nx\r\n",
                                                        " 1\r\nx\r\n",
                                                        "1 \r\nx\r\n",
                                                        "1\t\r\nx\r\n",
                                                        "1\nx\r\n",
                                                        "1\rx\r\n",
                                                        "1;\r\nx\r\n",
                                                        "1;=v\r\nx\r\n",
                                                        "1;a=\r\nx\r\n",
                                                        "1;a b\r\nx\r\n",
                                                        "1;a=\"x\r\nx\r\n",
                                                        "1;a=\"x\"y\r\nx\r\n",
                                                        "1;a=b c\r\nx\r\n",
                                                        "1;a =\r\nx\r\n",
                                                        "1;a \r\nx\r\n",
                                                        "1;a=v \r\nx\r\n",
                                                        "1;a=\"\x01\"\r\nx\r\n",
                                                        "1;a=(b)\r\nx\r\n",
                                                        std::string("1\0\r\nx\r\n", 7),
                                                        "1,2\r\n"}) {
    CAPTURE(in);
    CHECK(decode(in).status == Status::kError);
  }
}

TEST_CASE("chunk extensions with BWS, tokens and quoted strings are accepted and ignored") {
  for (const std::string& ext :
       std::vector<std::string>{";a", ";a=b", " ;a", "\t; a = b", ";a=\"\"", ";a=\"x;y=z\\\\\"",
                                ";a;b=c;d=\"e\"", ";a=b ;c"}) {
    CAPTURE(ext);
    const Decoded d = decode("3" + ext + "\r\nabc\r\n0" + ext + "\r\n\r\n");
    CHECK(d.status == Status::kDone);
    CHECK(d.data == "abc");
  }
}

TEST_CASE("chunk data not followed by exactly CRLF is refused") {
  for (const std::string& in : std::vector<std::string>{
           "3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc\n0\r\n\r\n", "3\r\nabc\r0\r\n\r\n",
           "3\r\nabc0\r\n\r\n", "3\r\nab\r\n\r\n0\r\n\r\n"}) {
    CAPTURE(in);
    const Decoded d = decode_every_split(in);
    CHECK(d.status == Status::kError);
  }
}

TEST_CASE("malformed trailer sections are refused") {
  for (const std::string& in : std::vector<std::string>{
           "0\r\n\n", "0\r\nX: y\n\r\n", "0\r\n X: y\r\n\r\n", "0\r\nX y\r\n\r\n",
           "0\r\nX : y\r\n\r\n", "0\r\nX: a\x7f\r\n\r\n", "0\r\n: y\r\n\r\n",
           "0\r\nX: y\r\n\tz\r\n\r\n", "0\r\n\rx", "0\r\nX: y\rz\r\n\r\n"}) {
    CAPTURE(in);
    CHECK(decode_every_split(in).status == Status::kError);
  }
}

TEST_CASE("an unfinished body asks for more and consumes everything it was given") {
  for (const std::string& in :
       std::vector<std::string>{"", "5", "5\r", "5\r\n", "5\r\nhel", "5\r\nhello", "5\r\nhello\r",
                                "5\r\nhello\r\n0", "5\r\nhello\r\n0\r\nX: y\r\n", "0\r\n\r"}) {
    CAPTURE(in);
    const Decoded d = decode_every_split(in);
    CHECK(d.status == Status::kNeedMore);
    CHECK(d.consumed == in.size());
  }
}

TEST_CASE("a chunk size line longer than max_line is refused") {
  const std::string ext = ";" + std::string(100, 'a');
  CHECK(decode("1" + ext + "\r\nx\r\n0\r\n\r\n", {}, ChunkedDecoder(102)).status == Status::kDone);
  CHECK(decode("1" + ext + "\r\nx\r\n0\r\n\r\n", {}, ChunkedDecoder(101)).status == Status::kError);
}

TEST_CASE("a trailer section larger than max_trailers is refused") {
  const std::string trailer = "X: " + std::string(50, 'v') + "\r\n";  // 55 bytes, +2 at the end
  CHECK(decode("0\r\n" + trailer + "\r\n", {}, ChunkedDecoder(4096, 57)).status == Status::kDone);
  CHECK(decode("0\r\n" + trailer + "\r\n", {}, ChunkedDecoder(4096, 56)).status == Status::kError);
}

TEST_CASE("after an error the decoder stays failed until reset") {
  ChunkedDecoder dec;
  auto r = dec.feed("zz");
  CHECK(r.status == Status::kError);
  CHECK(r.consumed == 0);
  CHECK(std::string(dec.error()) == "missing chunk size");
  CHECK(dec.feed("0\r\n\r\n").status == Status::kError);
  dec.reset();
  CHECK(dec.feed("0\r\n\r\n").status == Status::kDone);
}

TEST_CASE("random splits of a long chunked body decode to the same data") {
  std::mt19937 rng(1234);
  std::string body;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    const size_t n = rng() % 300 + 1;
    std::string chunk(n, static_cast<char>('a' + i % 26));
    char size[32];
    std::snprintf(size, sizeof size, "%zx", n);
    body += std::string(size) + (i % 3 == 0 ? ";x=\"y\"" : "") + "\r\n" + chunk + "\r\n";
    expected += chunk;
  }
  body += "0\r\nT: v\r\n\r\n";
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t pos = rng() % 40; pos < body.size(); pos += rng() % 40 + 1) cuts.push_back(pos);
    const Decoded d = decode(body, cuts);
    REQUIRE(d.status == Status::kDone);
    REQUIRE(d.data == expected);
    REQUIRE(d.consumed == body.size());
  }
}
