// SPDX-License-Identifier: MIT
// libFuzzer target for the upstream side of the HTTP/1.1 codec: the response head parser (with
// invariants on what it accepts) and the chunked decoder on what follows the head. The first
// input byte picks the request method (HEAD or GET).
#include <cstdint>
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

void check_response(const ResponseHead& r, Method method, const std::vector<char>& buf) {
  FUZZ_CHECK(r.status >= 100 && r.status <= 599);
  FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
  FUZZ_CHECK(within(r.reason, buf));
  for (const Header& f : r.headers) {
    FUZZ_CHECK(!f.name.empty() && within(f.name, buf) && within(f.value, buf));
    for (char c : f.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
  }
  const bool no_body =
      method == Method::kHead || r.status < 200 || r.status == 204 || r.status == 304;
  if (no_body) FUZZ_CHECK(r.framing == Framing::kNone);
  if (r.framing == Framing::kUntilClose) FUZZ_CHECK(!r.keep_alive);
  if (r.framing == Framing::kChunked) {
    FUZZ_CHECK(r.version_minor == 1 && r.headers.count("Content-Length") == 0);
  }
  if (r.framing == Framing::kLength) FUZZ_CHECK(r.headers.count("Transfer-Encoding") == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Method method = (data[0] & 1) != 0 ? Method::kHead : Method::kGet;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t end = find_head_end(in, 0);
  if (end == 0) return 0;
  const std::vector<char> head(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(end));
  ResponseHead resp;
  const auto parsed = parse_response_head(std::string_view(head.data(), head.size()), method, resp);
  if (parsed) {
    check_response(resp, method, head);
  } else {
    FUZZ_CHECK(parsed.error().status == 502);
  }
  proxy::http::fuzz::check_chunked_splits(in.substr(end));
  return 0;
}
