// SPDX-License-Identifier: MIT
// libFuzzer target for the downstream side of the HTTP/1.1 codec: head scanning, early refusal,
// the request head parser (with invariants on everything it accepts) and the chunked decoder.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "proxy/http/parser.h"
#include "tests/fuzz/chunked_fuzz.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace proxy::http;

bool within(std::string_view v, const std::vector<char>& buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

bool is_upper_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}
unsigned hex(char c) {
  return static_cast<unsigned>(c <= '9' ? c - '0' : c - 'A' + 10);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// A normalized path: absolute, no dot-segments, only needed escapes in upper case, and a fixed
// point of normalize_path.
void check_path(std::string_view path) {
  FUZZ_CHECK(!path.empty() && path[0] == '/');
  size_t seg = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string_view s = path.substr(seg, i - seg);
    FUZZ_CHECK(s != "." && s != "..");
    seg = i + 1;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') continue;
    FUZZ_CHECK(i + 2 < path.size() && is_upper_hex(path[i + 1]) && is_upper_hex(path[i + 2]));
    const unsigned v = hex(path[i + 1]) * 16 + hex(path[i + 2]);
    FUZZ_CHECK(v != 0 && !is_unreserved(static_cast<unsigned char>(v)));
  }
  std::vector<char> again(path.begin(), path.end());
  auto n = normalize_path(again.data(), again.size());
  FUZZ_CHECK(n && *n == path.size() && std::memcmp(again.data(), path.data(), *n) == 0);
}

void check_request(const RequestHead& h, const std::vector<char>& buf) {
  FUZZ_CHECK(!h.method_name.empty() && within(h.method_name, buf));
  FUZZ_CHECK(!h.target.empty() && within(h.target, buf));
  FUZZ_CHECK(within(h.query, buf) && within(h.authority, buf));
  FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1);
  FUZZ_CHECK(h.method != Method::kConnect);
  if (h.asterisk) {
    FUZZ_CHECK(h.method == Method::kOptions && h.path == "*" && h.target == "*");
  } else {
    check_path(h.path);
    FUZZ_CHECK(h.path == "/" || within(h.path, buf));
  }
  if (h.has_query) {
    // The target stays contiguous: it ends with '?' query.
    FUZZ_CHECK(h.query.data() + h.query.size() == h.target.data() + h.target.size());
    FUZZ_CHECK(h.query.data()[-1] == '?');
  }
  FUZZ_CHECK(h.version_minor == 0 || !h.authority.empty());
  for (const Header& f : h.headers) {
    FUZZ_CHECK(!f.name.empty() && within(f.name, buf) && within(f.value, buf));
    for (char c : f.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    if (!f.value.empty()) {
      FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
      FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
    }
  }
  const size_t te = h.headers.count("Transfer-Encoding");
  const size_t cl = h.headers.count("Content-Length");
  switch (h.framing) {
    case Framing::kNone:
      FUZZ_CHECK(te == 0 && cl == 0);
      break;
    case Framing::kLength:
      FUZZ_CHECK(te == 0 && cl == 1);
      break;
    case Framing::kChunked:
      FUZZ_CHECK(te == 1 && cl == 0 && h.version_minor == 1);
      break;
    case Framing::kUntilClose:
      FUZZ_CHECK(false);
  }
  FUZZ_CHECK(h.headers.count("Host") <= 1);
}

// check_partial_request never refuses an unfinished prefix of a head the parser accepts.
void check_prefixes(std::string_view head, const ParseLimits& l) {
  const size_t step = head.size() / 64 + 1;
  for (size_t n = 0; n < head.size(); n += step)
    FUZZ_CHECK(check_partial_request(head.substr(0, n), l));
  FUZZ_CHECK(check_partial_request(head.substr(0, head.size() - 1), l));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.max_head = 2048;
  limits.max_line = 512;

  // Scanning as bytes arrive finds the same end as scanning at once.
  const size_t end = find_head_end(in, 0);
  size_t incremental = 0;
  for (size_t n = 1; n <= size && incremental == 0; ++n)
    incremental = find_head_end(in.substr(0, n), n - 1);
  FUZZ_CHECK(incremental == end);
  FUZZ_CHECK(end <= size);

  if (end == 0) {
    (void)check_partial_request(in, limits);
  } else {
    std::vector<char> head(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(end));  // exact
    RequestHead req;
    if (parse_request_head(head.data(), head.size(), limits, req)) {
      check_request(req, head);
      check_prefixes(in.substr(0, end), limits);
    }
    proxy::http::fuzz::check_chunked_splits(in.substr(end));
  }
  proxy::http::fuzz::check_chunked_splits(in);
  return 0;
}
