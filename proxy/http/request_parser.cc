// SPDX-License-Identifier: MIT
// The request head (RFC 9112 3, 6; RFC 9110 7.2).
#include <cstring>

#include "proxy/http/char_class.h"
#include "proxy/http/fields.h"
#include "proxy/http/parser.h"

namespace proxy::http {

namespace {

base::Unexpected<ParseError> fail(int status, const char* why) {
  return base::unexpected(ParseError{status, why});
}

// Reads the form of the target in [t, t_end) (RFC 9112 3.2) and its authority, writing nothing:
// |path| is where the path starts (null for asterisk-form). The path is normalized last, once the
// whole head is known to be valid, so that a refused head keeps its request line as received.
base::Expected<void, ParseError> parse_target_form(char* t, char* t_end, RequestHead& out,
                                                   char*& path) {
  const size_t len = static_cast<size_t>(t_end - t);
  path = t;
  if (*t == '*' && len == 1) {
    if (out.method != Method::kOptions) return fail(400, "asterisk-form is only for OPTIONS");
    out.asterisk = true;
    out.path = out.target;
    path = nullptr;
    return {};
  }
  if (*t != '/') {
    size_t scheme = 0;
    if (len >= 7 && iequals(std::string_view(t, 7), "http://")) scheme = 7;
    if (len >= 8 && iequals(std::string_view(t, 8), "https://")) scheme = 8;
    if (scheme == 0) return fail(400, "invalid request-target");
    path = t + scheme;
    while (path < t_end && *path != '/' && *path != '?') ++path;
    out.authority = std::string_view(t + scheme, static_cast<size_t>(path - (t + scheme)));
    if (!detail::valid_authority(out.authority))
      return fail(400, "invalid authority in request-target");
  }
  return {};
}

// Framing from Content-Length / Transfer-Encoding (RFC 9112 6.1-6.3): anything a peer might read
// differently is refused. Content-Length: 0 gives kLength with a length of 0.
base::Expected<void, ParseError> request_framing(const detail::KnownFields& k, RequestHead& out) {
  if (k.transfer_encoding_count > 0) {
    if (k.content_length_count > 0) return fail(400, "both content-length and transfer-encoding");
    if (out.version_minor == 0) return fail(400, "transfer-encoding in an HTTP/1.0 request");
    if (k.transfer_encoding_count > 1 || !iequals(k.transfer_encoding->value, "chunked"))
      return fail(400, "unsupported transfer-encoding");
    out.framing = Framing::kChunked;
  } else if (k.content_length_count > 0) {
    if (k.content_length_count > 1) return fail(400, "repeated content-length");
    auto n = parse_content_length(k.content_length->value);
    if (!n) return base::unexpected(n.error());
    out.framing = Framing::kLength;
    out.content_length = *n;
  }
  return {};
}

}  // namespace

namespace detail {

Method method_from_name(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::kGet;
      if (m == "PUT") return Method::kPut;
      break;
    case 4:
      if (m == "HEAD") return Method::kHead;
      if (m == "POST") return Method::kPost;
      break;
    case 5:
      if (m == "PATCH") return Method::kPatch;
      if (m == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (m == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::kOptions;
      if (m == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kOther;
}

namespace {

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned v = 0;
  for (char c : port) {
    if (!cc::is(c, cc::kDigit)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

}  // namespace

bool valid_authority(std::string_view a) {
  if (a.empty()) return false;
  size_t i = 0;
  if (a[0] == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close < 3 || close > 46) return false;
    bool colon = false;
    for (i = 1; i < close; ++i) {
      if (!cc::is(a[i], cc::kIpv6)) return false;
      colon = colon || a[i] == ':';
    }
    if (!colon) return false;
    i = close + 1;
  } else {
    while (i < a.size() && a[i] != ':') {
      if (a[i] == '%') {
        if (a.size() - i < 3 || !cc::is(a[i + 1], cc::kHex) || !cc::is(a[i + 2], cc::kHex))
          return false;
        i += 3;
      } else if (cc::is(a[i], cc::kRegName)) {
        ++i;
      } else {
        return false;
      }
    }
    if (i == 0) return false;
  }
  if (i == a.size()) return true;
  return a[i] == ':' && valid_port(a.substr(i + 1));
}

}  // namespace detail

base::Expected<void, ParseError> parse_request_head(char* head, size_t len, const ParseLimits& l,
                                                    RequestHead& out) {
  out.clear();
  if (len > l.max_head) return fail(431, "request head too large");
  // Every scan below stops at the final '\n' at the latest.
  if (len == 0 || head[len - 1] != '\n') return fail(400, "incomplete request head");
  char* p = head;
  char* const end = head + len;
  for (int n = 0; n < detail::kMaxLeadingEmptyLines && p < end && p[0] == '\r' && p[1] == '\n'; ++n)
    p += 2;
  if (p == end || *p == '\r' || *p == '\n')
    return fail(400, "malformed or too many empty lines before the request");

  // method SP request-target SP HTTP-version CRLF
  const char* line = p;
  while (cc::is(*p, cc::kTchar)) ++p;
  if (p == line || *p != ' ') return fail(400, "invalid method");
  out.method_name = std::string_view(line, static_cast<size_t>(p - line));
  out.method = detail::method_from_name(out.method_name);
  char* target = ++p;
  while (cc::is(*p, cc::kTarget)) ++p;
  if (*p != ' ')
    return fail(400, *p == '#' ? "fragment in request-target" : "invalid request-target");
  if (p == target) return fail(400, "empty request-target");
  char* target_end = p++;
  if (static_cast<size_t>(p - line) + 8 > l.max_line) return fail(414, "request line too long");
  if (end - p < 10) return fail(400, "malformed request line");
  auto minor = detail::parse_version(p);
  if (!minor) return base::unexpected(minor.error());
  out.version_minor = *minor;
  if (p[8] != '\r' || p[9] != '\n') return fail(400, "request line not ended by CRLF");
  p += 10;
  if (out.method == Method::kConnect) return fail(501, "CONNECT not supported");
  out.target = std::string_view(target, static_cast<size_t>(target_end - target));
  char* path = nullptr;
  if (auto t = parse_target_form(target, target_end, out, path); !t) return t;
  const bool absolute_form = !out.authority.empty();

  detail::KnownFields known;
  auto fields_end = detail::parse_fields(p, end, out.headers, known);
  if (!fields_end) return base::unexpected(fields_end.error());
  if (*fields_end != end) return fail(400, "bytes after the request head");

  if (auto f = request_framing(known, out); !f) return f;

  // Host (RFC 9112 3.2): exactly one in HTTP/1.1, valid when present; an absolute-form target's
  // authority takes precedence over it (RFC 9112 3.2.2).
  if (known.host_count > 1) return fail(400, "repeated host");
  if (known.host_count == 0 && out.version_minor == 1) return fail(400, "missing host");
  if (known.host != nullptr) {
    if (!detail::valid_authority(known.host->value)) return fail(400, "invalid host");
    if (!absolute_form) out.authority = known.host->value;
  }

  out.keep_alive = detail::keep_alive(out.version_minor, known);
  // RFC 9110 10.1.1: only 100-continue is known; an HTTP/1.0 client's is ignored.
  if (known.expect_other) return fail(417, "unsupported expectation");
  out.expect_continue = known.expect_count > 0 && out.version_minor == 1;
  // RFC 9110 7.8: an HTTP/1.0 request's Upgrade is ignored, and the new protocol may only start
  // after the whole request: with a body (never a WebSocket's) it is forwarded without Upgrade.
  out.upgrade_websocket = known.connection_upgrade && known.upgrade && out.version_minor == 1 &&
                          out.method == Method::kGet &&
                          (out.framing == Framing::kNone ||
                           (out.framing == Framing::kLength && out.content_length == 0)) &&
                          list_contains(known.upgrade->value, "websocket");
  if (path == nullptr) return {};
  return detail::split_path_query(target, path, target_end, out);
}

}  // namespace proxy::http
