// SPDX-License-Identifier: MIT
// Head scanning and the grammar shared by requests and responses (RFC 9112 2-6).
#include "proxy/http/parser.h"

#include <cstring>

#include "proxy/http/char_class.h"
#include "proxy/http/fields.h"

namespace proxy::http {

namespace {

using detail::kMaxLeadingEmptyLines;
// How much of an incomplete request line check_partial_request inspects.
constexpr size_t kProbeBytes = 64;

base::Unexpected<ParseError> fail(int status, const char* why) {
  return base::unexpected(ParseError{status, why});
}

struct EmptyLines {
  size_t bytes = 0;
  int count = 0;
};

// The empty lines at the start of buf, up to the limit, bare LF included (the parse refuses it).
EmptyLines skip_empty_lines(std::string_view buf) {
  EmptyLines e;
  for (; e.count < kMaxLeadingEmptyLines; ++e.count) {
    if (e.bytes < buf.size() && buf[e.bytes] == '\n') {
      e.bytes += 1;
    } else if (e.bytes + 1 < buf.size() && buf[e.bytes] == '\r' && buf[e.bytes + 1] == '\n') {
      e.bytes += 2;
    } else {
      break;
    }
  }
  return e;
}

void note_field(const Header& h, detail::KnownFields& k) {
  switch (h.name.size()) {
    case 4:
      if (iequals(h.name, "Host") && k.host_count++ == 0) k.host = &h;
      break;
    case 6:
      if (iequals(h.name, "Expect")) {
        ++k.expect_count;
        k.expect_other = k.expect_other || !iequals(h.value, "100-continue");
      }
      break;
    case 7:
      if (!k.upgrade && iequals(h.name, "Upgrade")) k.upgrade = &h;
      break;
    case 10:
      if (iequals(h.name, "Connection")) {
        for_each_list_item(h.value, [&](std::string_view option) {
          k.connection_close = k.connection_close || iequals(option, "close");
          k.connection_keep_alive = k.connection_keep_alive || iequals(option, "keep-alive");
          k.connection_upgrade = k.connection_upgrade || iequals(option, "upgrade");
        });
      }
      break;
    case 14:
      if (iequals(h.name, "Content-Length") && k.content_length_count++ == 0) k.content_length = &h;
      break;
    case 17:
      if (iequals(h.name, "Transfer-Encoding") && k.transfer_encoding_count++ == 0)
        k.transfer_encoding = &h;
      break;
    default:
      break;
  }
}

}  // namespace

bool is_idempotent(Method m) {
  switch (m) {
    case Method::kGet:
    case Method::kHead:
    case Method::kOptions:
    case Method::kTrace:
    case Method::kPut:
    case Method::kDelete:
      return true;
    default:
      return false;
  }
}

size_t find_head_end(std::string_view buf, size_t from) {
  const size_t start = skip_empty_lines(buf).bytes;
  size_t i = from > start ? from : start;
  while (i < buf.size()) {
    const void* lf = std::memchr(buf.data() + i, '\n', buf.size() - i);
    if (lf == nullptr) return 0;
    i = static_cast<size_t>(static_cast<const char*>(lf) - buf.data());
    if (i >= start + 1 && buf[i - 1] == '\n') return i + 1;
    if (i >= start + 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') return i + 1;
    ++i;
  }
  return 0;
}

base::Expected<void, ParseError> check_partial_request(std::string_view buf, const ParseLimits& l) {
  const EmptyLines empty = skip_empty_lines(buf);
  const size_t start = empty.bytes;
  for (size_t i = 0; i < start; ++i)
    if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) return fail(400, "bare LF");
  const std::string_view line = buf.substr(start);
  if (line.size() > l.max_line) {
    const size_t n = line.size() < l.max_line + 2 ? line.size() : l.max_line + 2;
    if (std::memchr(line.data(), '\n', n) == nullptr && n - (line[n - 1] == '\r') > l.max_line)
      return fail(414, "request line too long");
  }
  if (buf.size() >= l.max_head) return fail(431, "request head too large");

  // The first bytes must be able to start "method SP request-target".
  if (line.empty()) return {};
  if (line[0] == '\r' || line[0] == '\n') {
    if (line.size() == 1 && line[0] == '\r' && empty.count < kMaxLeadingEmptyLines)
      return {};  // half of an empty line
    return fail(400, "malformed or too many empty lines before the request");
  }
  const size_t probe = line.size() < kProbeBytes ? line.size() : kProbeBytes;
  size_t i = 0;
  while (i < probe && cc::is(line[i], cc::kTchar)) ++i;
  if (i == probe) return {};
  if (i == 0 || line[i] != ' ') return fail(400, "invalid method");
  if (++i < probe && !cc::is(line[i], cc::kTarget)) return fail(400, "invalid request-target");
  return {};
}

bool names_http_version(std::string_view head) {
  const std::string_view rest = head.substr(skip_empty_lines(head).bytes);
  const size_t lf = rest.find('\n');
  const std::string_view line = rest.substr(0, lf == std::string_view::npos ? rest.size() : lf);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return false;
  // HTTP/0.9's "GET /path" names no version, yet is HTTP: it gets its 400 too.
  if (sp + 1 < line.size() && line[sp + 1] == '/' && line.find(' ', sp + 1) == line.npos)
    return true;
  for (size_t i = sp; i + 6 <= line.size(); ++i)
    if (line[i] == ' ' && iequals(line.substr(i + 1, 5), "HTTP/")) return true;
  return false;
}

base::Expected<uint64_t, ParseError> parse_content_length(std::string_view v) {
  if (v.empty()) return fail(400, "invalid content-length");
  uint64_t n = 0;
  for (char c : v) {
    if (!cc::is(c, cc::kDigit)) return fail(400, "invalid content-length");
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return fail(400, "content-length overflows");
    n = n * 10 + d;
  }
  return n;
}

namespace detail {

base::Expected<int, ParseError> parse_version(const char* p) {
  if (std::memcmp(p, "HTTP/", 5) != 0 || !cc::is(p[5], cc::kDigit) || p[6] != '.' ||
      !cc::is(p[7], cc::kDigit))
    return fail(400, "malformed HTTP version");
  if (p[5] != '1') return fail(505, "HTTP version not supported");
  return p[7] == '0' ? 0 : 1;
}

base::Expected<const char*, ParseError> parse_fields(const char* p, const char* end,
                                                     HeaderList& out, KnownFields& known) {
  for (;;) {
    if (p == end) return fail(400, "head not ended by an empty line");
    if (*p == '\r') {  // end[-1] is '\n', so p[1] exists
      if (p[1] != '\n') return fail(400, "bare CR");
      return p + 2;
    }
    const char* name = p;
    while (cc::is(*p, cc::kTchar)) ++p;
    if (*p != ':') {
      if (p == name && cc::is(*p, cc::kWs)) return fail(400, "obsolete line folding");
      if (*p == '\n') return fail(400, "bare LF");
      return fail(400, "invalid field name");
    }
    if (p == name) return fail(400, "empty field name");
    const std::string_view field_name(name, static_cast<size_t>(p - name));
    ++p;
    while (cc::is(*p, cc::kWs)) ++p;
    const char* value = p;
    p = cc::skip_field_chars(p, end);
    if (*p != '\r') return fail(400, *p == '\n' ? "bare LF" : "invalid character in field value");
    if (p[1] != '\n') return fail(400, "bare CR");
    const char* value_end = p;
    while (value_end > value && cc::is(value_end[-1], cc::kWs)) --value_end;
    p += 2;
    if (!out.push(field_name, std::string_view(value, static_cast<size_t>(value_end - value))))
      return fail(431, "too many header fields");
    note_field(out[out.size() - 1], known);
  }
}

}  // namespace detail

}  // namespace proxy::http
