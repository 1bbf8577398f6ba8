// SPDX-License-Identifier: MIT
// An HTTP/2 request header block as a RequestHead (RFC 9113 8.2, 8.3).
#include "proxy/http/h2_request.h"

#include <array>
#include <cstring>

#include "proxy/http/char_class.h"
#include "proxy/http/fields.h"

namespace proxy::http {
namespace {

// RFC 9113 6.5.2: the size of a header list counts 32 bytes of overhead per field.
constexpr uint64_t kFieldOverhead = 32;

base::Unexpected<ParseError> refuse(int status, const char* why) {
  return base::unexpected(ParseError{status, why});
}

// RFC 9113 8.2.2: fields that only make sense for one HTTP/1.1 connection.
bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

// Lower-case token characters only (RFC 9113 8.2.1: upper case makes a request malformed).
bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!cc::is(c, cc::kTchar) || (c >= 'A' && c <= 'Z')) return false;
  return true;
}

// RFC 9113 8.2.1 refuses NUL, CR, LF and surrounding whitespace; other controls are refused too,
// as the HTTP/1 parser does, since the value is forwarded to an HTTP/1.1 backend.
bool valid_value(std::string_view value) {
  if (!value.empty() && (cc::is(value.front(), cc::kWs) || cc::is(value.back(), cc::kWs)))
    return false;
  for (char c : value)
    if (!cc::is(c, cc::kFieldChar)) return false;
  return true;
}

bool valid_method(std::string_view m) {
  if (m.empty()) return false;
  for (char c : m)
    if (!cc::is(c, cc::kTchar)) return false;
  return true;
}

}  // namespace

void H2RequestBuilder::begin(char* block, size_t cap, size_t max_head, RequestHead* out) {
  *this = H2RequestBuilder();
  block_ = block;
  cap_ = cap;
  max_head_ = max_head;
  out_ = out;
  out_->clear();
  out_->http2 = true;  // a refused stream's log line says HTTP/2.0 too
}

void H2RequestBuilder::fail(int status, const char* reason) {
  if (!failed()) error_ = ParseError{status, reason};
}

std::string_view H2RequestBuilder::copy(std::string_view s) {
  if (s.size() > cap_ - used_) {
    fail(431, "request header list too large");
    return {};
  }
  char* at = block_ + used_;
  if (!s.empty()) std::memcpy(at, s.data(), s.size());
  used_ += s.size();
  return {at, s.size()};
}

void H2RequestBuilder::add(std::string_view name, std::string_view value) {
  list_size_ += name.size() + value.size() + kFieldOverhead;
  if (failed()) return;
  if (list_size_ > max_head_) {
    fail(431, "request header list too large");
    return;
  }
  if (!name.empty() && name[0] == ':')
    add_pseudo(name, value);
  else
    add_regular(name, value);
}

// RFC 9113 8.3: pseudo-header fields come first, each once, and only the request ones.
void H2RequestBuilder::add_pseudo(std::string_view name, std::string_view value) {
  if (regular_seen_) return fail(400, "pseudo-header field after a regular field");
  bool* seen = nullptr;
  if (name == ":method")
    seen = &has_method_;
  else if (name == ":scheme")
    seen = &has_scheme_;
  else if (name == ":path")
    seen = &has_path_;
  else if (name == ":authority")
    seen = &has_authority_;
  else if (name == ":protocol")
    seen = &has_protocol_;
  else
    return fail(400, "unknown pseudo-header field");
  if (*seen) return fail(400, "repeated pseudo-header field");
  *seen = true;
  std::string_view v = copy(value);
  if (failed()) return;
  if (seen == &has_method_) {
    if (!valid_method(v)) return fail(400, "invalid :method");
    out_->method_name = v;
    out_->method = detail::method_from_name(v);
  } else if (seen == &has_scheme_) {
    scheme_ = v;
  } else if (seen == &has_path_) {
    path_ = v;
    out_->target = v;  // as received, for the log of a refused stream; split_path() normalizes
  } else if (seen == &has_protocol_) {
    protocol_ = v;
  } else {
    authority_ = v;
  }
}

void H2RequestBuilder::add_regular(std::string_view name, std::string_view value) {
  regular_seen_ = true;
  if (!valid_name(name)) return fail(400, "invalid field name");
  if (!valid_value(value)) return fail(400, "invalid field value");
  if (connection_specific(name)) return fail(400, "connection-specific field");
  if (name == "te" && value != "trailers") return fail(400, "te other than trailers");
  if (name == "expect") {
    if (!iequals(value, "100-continue")) return fail(417, "unsupported expectation");
    expect_continue_ = true;
  }
  std::string_view n = copy(name);
  std::string_view v = copy(value);
  if (failed()) return;
  if (name == "host") {
    ++hosts_;
    host_ = v;
  } else if (name == "content-length") {
    ++content_lengths_;
    content_length_ = v;
  } else if (name == "cookie") {
    ++cookies_;
  }
  if (!out_->headers.push(n, v)) fail(431, "too many header fields");
}

// :path as origin-form (or "*" for OPTIONS), normalized in place like an HTTP/1 target.
base::Expected<void, ParseError> H2RequestBuilder::split_path(RequestHead& out) {
  if (path_.empty()) return refuse(400, "empty :path");
  out.target = path_;
  if (path_ == "*") {
    if (out.method != Method::kOptions) return refuse(400, "asterisk-form is only for OPTIONS");
    out.asterisk = true;
    out.path = path_;
    return {};
  }
  if (path_[0] != '/') return refuse(400, "invalid :path");
  for (char c : path_)
    if (!cc::is(c, cc::kTarget))
      return refuse(400, c == '#' ? "fragment in :path" : "invalid :path");
  // The view points into our block, so the bytes are ours to rewrite. The path starts with '/':
  // it is never empty.
  char* t = block_ + (path_.data() - block_);
  return detail::split_path_query(t, t, t + path_.size(), out);
}

// RFC 9113 8.2.3: crumbs become one "cookie" field, joined with "; ", for an HTTP/1.1 backend.
bool H2RequestBuilder::join_cookies() {
  HeaderList& list = out_->headers;
  size_t need = 0;
  for (const Header& h : list)
    if (h.name == "cookie") need += h.value.size() + 2;
  if (need - 2 > cap_ - used_) return false;
  char* const joined = block_ + used_;
  size_t len = 0;
  std::array<Header, HeaderList::kCapacity> keep;
  size_t kept = 0;
  for (const Header& h : list) {
    if (h.name != "cookie") {
      keep[kept++] = h;
      continue;
    }
    if (len > 0) {
      std::memcpy(joined + len, "; ", 2);
      len += 2;
    }
    if (!h.value.empty()) std::memcpy(joined + len, h.value.data(), h.value.size());
    len += h.value.size();
  }
  used_ += len;
  list.clear();
  for (size_t i = 0; i < kept; ++i) list.push(keep[i].name, keep[i].value);
  list.push("cookie", std::string_view(joined, len));
  return true;
}

base::Expected<void, ParseError> H2RequestBuilder::finish(bool end_stream) {
  if (failed()) return base::unexpected(error_);
  RequestHead& out = *out_;
  if (!has_method_) return refuse(400, "missing :method");
  if (has_protocol_) {
    if (out.method != Method::kConnect)
      return refuse(400, ":protocol on a method other than CONNECT");
    if (!iequals(protocol_, "websocket")) return refuse(501, "unsupported :protocol");
    if (end_stream) return refuse(400, "extended CONNECT that ends the stream");
    // RFC 8441 5: the HTTP/1.1 side is a GET of :path with the WebSocket upgrade.
    out.method_name = "GET";
    out.method = Method::kGet;
    out.upgrade_websocket = true;
  }
  if (out.method == Method::kConnect) return refuse(501, "CONNECT not supported");
  if (!has_scheme_ || !has_path_) return refuse(400, "missing :scheme or :path");
  if (!iequals(scheme_, "http") && !iequals(scheme_, "https"))
    return refuse(400, "invalid :scheme");

  if (hosts_ > 1) return refuse(400, "repeated host");
  if (has_authority_) {
    if (!detail::valid_authority(authority_)) return refuse(400, "invalid :authority");
    if (hosts_ == 1 && !iequals(host_, authority_))
      return refuse(400, "host and :authority differ");
    out.authority = authority_;
  } else if (hosts_ == 1) {
    if (!detail::valid_authority(host_)) return refuse(400, "invalid host");
    out.authority = host_;
  } else {
    return refuse(400, "missing :authority");
  }

  if (content_lengths_ > 0 && out.upgrade_websocket)
    return refuse(400, "content-length on extended CONNECT");
  if (content_lengths_ > 1) return refuse(400, "repeated content-length");
  if (content_lengths_ == 1) {
    auto n = parse_content_length(content_length_);
    if (!n) return base::unexpected(n.error());
    if (end_stream && *n > 0) return refuse(400, "content-length on a request without a body");
    out.framing = Framing::kLength;
    out.content_length = *n;
  } else {
    // A body whose length is learned at its end, as with chunked: sent on with Content-Length.
    // A WebSocket's DATA frames are the tunnel, not a body.
    out.framing = end_stream || out.upgrade_websocket ? Framing::kNone : Framing::kChunked;
  }
  // Last: it normalizes the path in place, and a refused stream is logged with it as received.
  if (auto p = split_path(out); !p) return p;
  if (cookies_ > 1 && !join_cookies()) return refuse(431, "request header list too large");
  out.version_minor = 1;
  out.http2 = true;
  out.keep_alive = true;
  out.expect_continue = expect_continue_ && !end_stream;
  return {};
}

}  // namespace proxy::http
