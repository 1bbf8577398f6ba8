// SPDX-License-Identifier: MIT
// The upstream response head (RFC 9112 4, 6.3). Every refusal is a 502 for the client.
#include "proxy/http/char_class.h"
#include "proxy/http/fields.h"
#include "proxy/http/parser.h"

namespace proxy::http {

namespace {

base::Unexpected<ParseError> fail(const char* why) {
  return base::unexpected(ParseError{502, why});
}

// Content-Length fields and list elements that all carry the same number are one length
// (RFC 9110 8.6); anything else is an error.
base::Expected<uint64_t, ParseError> response_content_length(const detail::KnownFields& k,
                                                             const HeaderList& headers) {
  uint64_t length = 0;
  bool seen = false;
  bool ok = true;
  auto take = [&](std::string_view value) {
    for_each_list_item(value, [&](std::string_view item) {
      auto n = parse_content_length(item);
      if (!n || (seen && *n != length)) ok = false;
      if (n) length = *n;
      seen = true;
    });
  };
  if (k.content_length_count == 1) {
    take(k.content_length->value);
  } else {
    for (const Header& h : headers)
      if (iequals(h.name, "Content-Length")) take(h.value);
  }
  if (!ok || !seen) return fail("invalid content-length");
  return length;
}

base::Expected<void, ParseError> response_framing(const detail::KnownFields& k,
                                                  Method request_method, ResponseHead& out) {
  const int s = out.status;
  if (request_method == Method::kHead || s < 200 || s == 204 || s == 304) {
    // RFC 9112 6.3: the message ends with its head, whatever its fields say.
    out.framing = Framing::kNone;
    out.content_length = 0;
    if (s == 204 || s < 200) {
      // RFC 9110 8.6, 6.4.1: such a response carries neither field. One that announces a body
      // anyway may well send it: the next response on this connection could not be told from it.
      bool announced = k.transfer_encoding_count > 0;
      if (k.content_length_count > 0) {
        auto n = response_content_length(k, out.headers);
        announced = announced || !n || *n > 0;
        out.headers.erase("Content-Length");
      }
      if (k.transfer_encoding_count > 0) out.headers.erase("Transfer-Encoding");
      if (announced) out.keep_alive = false;
    }
  } else if (k.transfer_encoding_count > 0) {
    if (k.content_length_count > 0) return fail("both content-length and transfer-encoding");
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
    if (out.version_minor == 0) return fail("transfer-encoding in an HTTP/1.0 response");
    if (k.transfer_encoding_count > 1 || !iequals(k.transfer_encoding->value, "chunked"))
      return fail("unsupported transfer-encoding");
    out.framing = Framing::kChunked;
  } else if (k.content_length_count > 0) {
    auto n = response_content_length(k, out.headers);
    if (!n) return base::unexpected(n.error());
    out.framing = Framing::kLength;
    out.content_length = *n;
  } else {
    out.framing = Framing::kUntilClose;
    out.keep_alive = false;
  }
  return {};
}

}  // namespace

base::Expected<void, ParseError> parse_response_head(std::string_view head, Method request_method,
                                                     ResponseHead& out) {
  out.clear();
  // "HTTP/1.1 200" CRLF CRLF at least; every scan below stops at the final '\n' at the latest.
  if (head.size() < 16 || head.back() != '\n') return fail("incomplete response head");
  const char* p = head.data();
  const char* const end = p + head.size();

  // HTTP-version SP 3DIGIT [ SP reason-phrase ] CRLF; the reason may be absent altogether.
  auto minor = detail::parse_version(p);
  if (!minor) return fail(minor.error().reason);
  out.version_minor = *minor;
  if (p[8] != ' ' || !cc::is(p[9], cc::kDigit) || !cc::is(p[10], cc::kDigit) ||
      !cc::is(p[11], cc::kDigit))
    return fail("malformed status line");
  out.status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (out.status < 100 || out.status > 599) return fail("status code out of range");
  p += 12;
  if (*p == ' ') {
    const char* reason = ++p;
    while (cc::is(*p, cc::kFieldChar)) ++p;
    out.reason = std::string_view(reason, static_cast<size_t>(p - reason));
  }
  if (p[0] != '\r' || p[1] != '\n') return fail("status line not ended by CRLF");
  p += 2;

  detail::KnownFields known;
  auto fields_end = detail::parse_fields(p, end, out.headers, known);
  if (!fields_end) return fail(fields_end.error().reason);
  if (*fields_end != end) return fail("bytes after the response head");

  out.keep_alive = detail::keep_alive(out.version_minor, known);
  return response_framing(known, request_method, out);
}

}  // namespace proxy::http
