// SPDX-License-Identifier: MIT
#include "cache/compression.h"

#include <brotli/encode.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>

#include "proxy/http/headers.h"

namespace cache {
namespace {

using proxy::http::iequals;

constexpr size_t kOutChunk = 16 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A qvalue (RFC 9110 12.4.2) in thousandths; -1 when malformed (the item is then ignored).
int parse_qvalue(std::string_view v) {
  v = trim(v);
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return -1;
  int scale = 100;
  for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return -1;
    q += (v[i] - '0') * scale;
  }
  return q > 1000 ? -1 : q;
}

// The qvalue of one Accept-Encoding item ("gzip;q=0.5"), and its coding token.
bool parse_item(std::string_view item, std::string_view& token, int& q) {
  const size_t semi = item.find(';');
  token = trim(item.substr(0, semi));
  q = 1000;
  if (semi == std::string_view::npos) return !token.empty();
  std::string_view params = item.substr(semi + 1);
  while (!params.empty()) {
    const size_t next = params.find(';');
    std::string_view p = trim(params.substr(0, next));
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      q = parse_qvalue(p.substr(2));
      if (q < 0) return false;
    }
    if (next == std::string_view::npos) break;
    params.remove_prefix(next + 1);
  }
  return !token.empty();
}

class Gzip final : public Compressor {
 public:
  bool init() {
    // 31 = a 32 KiB window with the gzip wrapper; level 6 is zlib's balance of size and time.
    ready_ = deflateInit2(&z_, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    return ready_;
  }
  ~Gzip() override {
    if (ready_) deflateEnd(&z_);
  }
  bool feed(const char* data, size_t len, ByteSink& out) override {
    return run(data, len, Z_NO_FLUSH, out);
  }
  bool finish(ByteSink& out) override { return run(nullptr, 0, Z_FINISH, out); }

 private:
  bool run(const char* data, size_t len, int flush, ByteSink& out) {
    unsigned char buf[kOutChunk];
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(len);
    for (;;) {
      z_.next_out = buf;
      z_.avail_out = sizeof buf;
      const int r = deflate(&z_, flush);
      if (r == Z_STREAM_ERROR) return false;
      const size_t made = sizeof buf - z_.avail_out;
      if (made > 0 && !out.write(reinterpret_cast<const char*>(buf), made)) return false;
      if (flush == Z_FINISH ? r == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0))
        return true;
    }
  }

  z_stream z_{};
  bool ready_ = false;
};

class Brotli final : public Compressor {
 public:
  bool init() {
    state_ = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (!state_) return false;
    // Quality 5: most of brotli's gain over gzip at a few times gzip's speed; objects are
    // compressed once, while a client waits for the first bytes.
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, 5);
    return true;
  }
  ~Brotli() override {
    if (state_) BrotliEncoderDestroyInstance(state_);
  }
  bool feed(const char* data, size_t len, ByteSink& out) override {
    return run(data, len, BROTLI_OPERATION_PROCESS, out);
  }
  bool finish(ByteSink& out) override { return run(nullptr, 0, BROTLI_OPERATION_FINISH, out); }

 private:
  bool run(const char* data, size_t len, BrotliEncoderOperation op, ByteSink& out) {
    const uint8_t* in = reinterpret_cast<const uint8_t*>(data);
    size_t avail_in = len;
    uint8_t buf[kOutChunk];
    for (;;) {
      uint8_t* next_out = buf;
      size_t avail_out = sizeof buf;
      if (!BrotliEncoderCompressStream(state_, op, &avail_in, &in, &avail_out, &next_out, nullptr))
        return false;
      const size_t made = sizeof buf - avail_out;
      if (made > 0 && !out.write(reinterpret_cast<const char*>(buf), made)) return false;
      const bool more = BrotliEncoderHasMoreOutput(state_);
      if (op == BROTLI_OPERATION_FINISH) {
        if (BrotliEncoderIsFinished(state_)) return true;
      } else if (avail_in == 0 && !more) {
        return true;
      }
    }
  }

  BrotliEncoderState* state_ = nullptr;
};

}  // namespace

std::string_view coding_name(Coding c) {
  switch (c) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kIdentity:
      break;
  }
  return {};
}

namespace {

// The qvalues an Accept-Encoding value gives the codings gatehouse knows: -1 when not named
// (then "*", if named, stands for them).
struct CodingQs {
  int gzip = -1, br = -1, deflate = -1, zstd = -1, star = -1;

  explicit CodingQs(std::string_view accept_encoding) {
    proxy::http::for_each_list_item(accept_encoding, [&](std::string_view item) {
      std::string_view token;
      int q;
      if (!parse_item(item, token, q)) return;
      int* slot = nullptr;
      // x-gzip is gzip's old alias (RFC 9110 8.4.1.3).
      if (iequals(token, "gzip") || iequals(token, "x-gzip"))
        slot = &gzip;
      else if (iequals(token, "br"))
        slot = &br;
      else if (iequals(token, "deflate"))
        slot = &deflate;
      else if (iequals(token, "zstd"))
        slot = &zstd;
      else if (token == "*")
        slot = &star;
      if (slot && q > *slot) *slot = q;
    });
    for (int* q : {&gzip, &br, &deflate, &zstd})
      if (*q < 0) *q = star;
  }
};

}  // namespace

Coding choose_coding(std::string_view accept_encoding, CodingSet enabled) {
  const CodingQs q(accept_encoding);
  const int q_gzip = enabled.gzip ? q.gzip : 0;
  const int q_br = enabled.br ? q.br : 0;
  if (q_br > 0 && q_br >= q_gzip) return Coding::kBrotli;
  if (q_gzip > 0) return Coding::kGzip;
  return Coding::kIdentity;
}

void accepted_codings(std::string_view accept_encoding, std::string& out) {
  const CodingQs q(accept_encoding);
  bool first = true;
  // In name order.
  for (auto [name, value] : {std::pair<std::string_view, int>{"br", q.br},
                             {"deflate", q.deflate},
                             {"gzip", q.gzip},
                             {"zstd", q.zstd}}) {
    if (value <= 0) continue;
    if (!first) out.push_back(',');
    first = false;
    out.append(name);
  }
}

bool compressible_type(std::string_view content_type) {
  std::string_view t = trim(content_type.substr(0, content_type.find(';')));
  const size_t slash = t.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view type = t.substr(0, slash);
  const std::string_view sub = t.substr(slash + 1);
  if (iequals(type, "text")) return !iequals(sub, "event-stream");  // a stream is never whole
  auto ends_with = [&](std::string_view suffix) {
    return sub.size() >= suffix.size() && iequals(sub.substr(sub.size() - suffix.size()), suffix);
  };
  if (iequals(type, "application")) {
    for (std::string_view s : {"json", "javascript", "ecmascript", "xml", "wasm", "x-javascript",
                               "graphql", "manifest+json", "x-sh", "rtf", "x-tar"})
      if (iequals(sub, s)) return true;
    return ends_with("+json") || ends_with("+xml");
  }
  if (iequals(type, "image"))
    return iequals(sub, "svg+xml") || iequals(sub, "x-icon") ||
           iequals(sub, "vnd.microsoft.icon") || iequals(sub, "bmp");
  if (iequals(type, "font")) return iequals(sub, "ttf") || iequals(sub, "otf");
  return false;
}

std::unique_ptr<Compressor> Compressor::make(Coding coding) {
  switch (coding) {
    case Coding::kGzip: {
      auto g = std::make_unique<Gzip>();
      if (!g->init()) return nullptr;
      return g;
    }
    case Coding::kBrotli: {
      auto b = std::make_unique<Brotli>();
      if (!b->init()) return nullptr;
      return b;
    }
    case Coding::kIdentity:
      break;
  }
  return nullptr;
}

}  // namespace cache
