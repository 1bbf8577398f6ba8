// SPDX-License-Identifier: MIT
#include "proxy/cache_reply.h"

#include <cstdio>

#include "cache/policy.h"
#include "proxy/stages/status_text.h"

namespace proxy {
namespace {

using Kind = CacheReply::Kind;

void add_segment(CacheReply& r, bool literal, uint64_t offset, uint64_t length) {
  if (r.segment_count < CacheReply::kMaxSegments)
    r.segments[r.segment_count++] = ReplySegment{literal, offset, length};
}

// The literal bytes added since |from| become one segment.
void literal_since(CacheReply& r, size_t from) {
  add_segment(r, true, from, r.literal.size() - from);
}

void append_number(std::string& s, uint64_t v) {
  char tmp[24];
  const int n = snprintf(tmp, sizeof tmp, "%llu", static_cast<unsigned long long>(v));
  s.append(tmp, static_cast<size_t>(n));
}

// A boundary that depends only on the stored response (the plan stays a pure function), long
// and odd enough never to occur in a body by chance (RFC 2046 5.1.1).
void make_boundary(CacheReply& r, const http::HeaderList& stored, uint64_t size) {
  uint64_t h = 0xcbf29ce484222325ull ^ size;
  for (const auto& f : stored) {
    for (char c : f.value) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
  }
  snprintf(r.boundary, sizeof r.boundary, "gatehouse-%016llx", static_cast<unsigned long long>(h));
}

// RFC 9110 14.6: each part is a delimiter, its Content-Type and Content-Range, a blank line and
// the bytes; the body ends with the close delimiter. CRLF before each delimiter but the first.
void plan_multipart(CacheReply& r, const http::HeaderList& stored, const cache::ByteRange* ranges,
                    size_t count, uint64_t size) {
  r.kind = Kind::kMultipart;
  r.status = 206;
  make_boundary(r, stored, size);
  const http::Header* type = stored.find("content-type");
  r.literal.reserve(count * (80 + (type ? type->value.size() : 0)) + 48);
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t from = r.literal.size();
    if (i > 0) r.literal += "\r\n";
    r.literal += "--";
    r.literal += r.boundary;
    r.literal += "\r\n";
    if (type) {
      r.literal += "Content-Type: ";
      r.literal += type->value;
      r.literal += "\r\n";
    }
    r.literal += "Content-Range: bytes ";
    append_number(r.literal, ranges[i].first);
    r.literal += '-';
    append_number(r.literal, ranges[i].last);
    r.literal += '/';
    append_number(r.literal, size);
    r.literal += "\r\n\r\n";
    literal_since(r, from);
    const uint64_t len = ranges[i].last - ranges[i].first + 1;
    add_segment(r, false, ranges[i].first, len);
    total += len;
  }
  const size_t from = r.literal.size();
  r.literal += "\r\n--";
  r.literal += r.boundary;
  r.literal += "--\r\n";
  literal_since(r, from);
  r.content_length = total + r.literal.size();
}

// RFC 9110 14.2: Range applies to a GET of a 200 representation whose length is known; If-Range
// (13.1.5) lets the ranges apply only to the representation the client already has part of.
bool plan_range(CacheReply& r, const http::RequestHead& req, const http::HeaderList& stored,
                uint64_t size) {
  const http::Header* range = req.headers.find("range");
  if (!range) return false;
  if (const http::Header* if_range = req.headers.find("if-range");
      if_range && !cache::if_range_holds(if_range->value, stored))
    return false;
  cache::ByteRange ranges[cache::kMaxRanges];
  size_t count = 0;
  switch (cache::parse_range(range->value, size, ranges, count)) {
    case cache::RangeResult::kIgnore:
      return false;
    case cache::RangeResult::kUnsatisfiable:
      r.kind = Kind::kUnsatisfiable;
      r.status = 416;
      r.content_length = 0;
      return true;
    case cache::RangeResult::kRanges:
      break;
  }
  if (count == 0) return false;
  if (count == 1) {
    r.kind = Kind::kPartial;
    r.status = 206;
    r.range = ranges[0];
    r.content_length = ranges[0].last - ranges[0].first + 1;
    add_segment(r, false, ranges[0].first, r.content_length);
    return true;
  }
  plan_multipart(r, stored, ranges, count, size);
  return true;
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (http::iequals(name, n)) return true;
  return false;
}

void write_number(char*& p, char* end, uint64_t v, std::string_view& out, bool& ok) {
  const int n =
      snprintf(p, static_cast<size_t>(end - p), "%llu", static_cast<unsigned long long>(v));
  if (n < 0 || p + n >= end) {
    ok = false;
    return;
  }
  out = std::string_view(p, static_cast<size_t>(n));
  p += n;
}

bool sends_length(const CacheReply& r) {
  return r.length_known && r.kind != Kind::kNotModified && r.status != 204 && r.status >= 200;
}

}  // namespace

uint64_t CacheReply::body_bytes() const {
  uint64_t total = 0;
  for (size_t i = 0; i < segment_count; ++i) {
    if (segments[i].length == kUnknownSize) return kUnknownSize;
    total += segments[i].length;
  }
  return total;
}

CacheReply plan_reply(const http::RequestHead& req, const cache::ObjectHead& head,
                      const http::HeaderList& stored, uint64_t body_size, bool complete) {
  return plan_reply(req, head.status, stored, body_size, complete);
}

CacheReply plan_reply(const http::RequestHead& req, int status, const http::HeaderList& stored,
                      uint64_t body_size, [[maybe_unused]] bool complete) {
  CacheReply r;
  r.status = status;
  r.head_only = req.method == http::Method::kHead;
  const bool known = body_size != kUnknownSize;
  r.size = known ? body_size : 0;
  // RFC 9110 13.2.1: preconditions apply only where the response would otherwise be a 2xx.
  const bool successful = status >= 200 && status < 300;
  switch (successful ? cache::evaluate_preconditions(req, stored) : cache::Precondition::kServe) {
    case cache::Precondition::kNotModified:
      r.kind = Kind::kNotModified;
      r.status = 304;
      r.length_known = false;
      return r;
    case cache::Precondition::kFailed:
      r.kind = Kind::kPreconditionFailed;
      r.status = 412;
      r.content_length = 0;
      return r;
    case cache::Precondition::kServe:
      break;
  }
  // A range of an object still filling is served as its bytes come in, when its size is known
  // (Content-Length): a Range miss of a large archive needs not wait for the whole of it.
  if (req.method == http::Method::kGet && known && status == 200 &&
      plan_range(r, req, stored, body_size))
    return r;
  r.kind = Kind::kFull;
  const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
  r.length_known = known || bodiless;
  r.content_length = known && !bodiless ? body_size : 0;
  if (!r.head_only && !bodiless && body_size != 0) add_segment(r, false, 0, body_size);
  return r;
}

bool reply_carries(const CacheReply& reply, std::string_view name, std::string_view status_header) {
  if (is_one_of(name,
                {"age", "content-length", "transfer-encoding", "surrogate-key", "keep-alive"}) ||
      http::is_hop_by_hop(name) || (!status_header.empty() && http::iequals(name, status_header)))
    return false;
  // A whole stored response keeps the Content-Range it came with (RFC 9111 3.1: every field but
  // the hop-by-hop ones is stored and sent); the replies gatehouse cuts write their own.
  if (http::iequals(name, "content-range") && reply.kind != Kind::kFull) return false;
  switch (reply.kind) {
    case Kind::kFull:
    case Kind::kPartial:
      return true;
    case Kind::kMultipart:
      return !http::iequals(name, "content-type");
    case Kind::kNotModified:
      // RFC 9110 15.4.5: what a 200 would carry of these, and Last-Modified to guide caches.
      return is_one_of(name, {"cache-control", "content-location", "date", "etag", "expires",
                              "vary", "last-modified"});
    case Kind::kPreconditionFailed:
    case Kind::kUnsatisfiable:
      return false;  // gatehouse's own answer about the request, not the stored representation
  }
  return false;
}

Http1Framing write_http1_head(const CacheReply& reply, const http::HeaderList& stored,
                              const ReplyFields& fields, int version_minor, bool close_after,
                              io::HeadBuilder& h) {
  Http1Framing framing;
  framing.close_after = close_after;
  h.add("HTTP/1.1 ").add_number(static_cast<uint64_t>(reply.status)).add(" ");
  h.add(stages::reason_phrase(reply.status)).add("\r\n");
  bool has_date = false;
  for (const auto& f : stored) {
    if (!reply_carries(reply, f.name, fields.status_header)) continue;
    if (!has_date && http::iequals(f.name, "date")) has_date = true;
    h.field(f.name, f.value);
  }
  if (!has_date && !fields.date.empty()) h.field("Date", fields.date);
  if (fields.send_age)
    h.add("Age: ").add_number(fields.age > 0 ? static_cast<uint64_t>(fields.age) : 0).add("\r\n");
  if (!fields.status_header.empty()) h.field(fields.status_header, fields.status_value);
  if (fields.send_via) h.add("Via: 1.1 gatehouse\r\n");
  switch (reply.kind) {
    case Kind::kPartial:
      h.add("Content-Range: bytes ").add_number(reply.range.first).add("-");
      h.add_number(reply.range.last).add("/").add_number(reply.size).add("\r\n");
      break;
    case Kind::kMultipart:
      h.add("Content-Type: multipart/byteranges; boundary=").add(reply.boundary_view()).add("\r\n");
      break;
    case Kind::kUnsatisfiable:
      h.add("Content-Range: bytes */").add_number(reply.size).add("\r\n");
      break;
    default:
      break;
  }
  if (sends_length(reply)) {
    h.add("Content-Length: ").add_number(reply.content_length).add("\r\n");
  } else if (!reply.length_known && !reply.head_only && reply.kind == Kind::kFull) {
    if (version_minor >= 1) {
      framing.chunked = true;
      h.add("Transfer-Encoding: chunked\r\n");
    } else {
      framing.close_after = true;  // an HTTP/1.0 client learns the end from the close
    }
  }
  if (framing.close_after)
    h.add("Connection: close\r\n");
  else if (version_minor == 0)
    h.add("Connection: keep-alive\r\n");
  h.add("\r\n");
  return framing;
}

size_t http2_fields(const CacheReply& reply, const http::HeaderList& stored,
                    const ReplyFields& fields, H2Field* out, size_t cap, char* buf,
                    size_t buf_cap) {
  char* p = buf;
  char* const end = buf + buf_cap;
  bool ok = true;
  size_t n = 0;
  auto push = [&](std::string_view name, std::string_view value) {
    if (n < cap)
      out[n++] = H2Field{name, value};
    else
      ok = false;
  };
  std::string_view status;
  write_number(p, end, static_cast<uint64_t>(reply.status), status, ok);
  push(":status", status);
  bool has_date = false;
  for (const auto& f : stored) {
    if (!reply_carries(reply, f.name, fields.status_header)) continue;
    if (static_cast<size_t>(end - p) < f.name.size()) return 0;
    for (size_t i = 0; i < f.name.size(); ++i) {
      const char c = f.name[i];
      p[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
    }
    const std::string_view name(p, f.name.size());
    p += f.name.size();
    if (name == "date") has_date = true;
    push(name, f.value);
  }
  if (!has_date && !fields.date.empty()) push("date", fields.date);
  if (fields.send_age) {
    std::string_view age;
    write_number(p, end, fields.age > 0 ? static_cast<uint64_t>(fields.age) : 0, age, ok);
    push("age", age);
  }
  if (!fields.status_header.empty()) {
    if (static_cast<size_t>(end - p) < fields.status_header.size()) return 0;
    for (size_t i = 0; i < fields.status_header.size(); ++i) {
      const char c = fields.status_header[i];
      p[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
    }
    push(std::string_view(p, fields.status_header.size()), fields.status_value);
    p += fields.status_header.size();
  }
  if (fields.send_via) push("via", "1.1 gatehouse");
  if (reply.kind == Kind::kPartial || reply.kind == Kind::kUnsatisfiable) {
    int len;
    if (reply.kind == Kind::kPartial)
      len = snprintf(p, static_cast<size_t>(end - p), "bytes %llu-%llu/%llu",
                     static_cast<unsigned long long>(reply.range.first),
                     static_cast<unsigned long long>(reply.range.last),
                     static_cast<unsigned long long>(reply.size));
    else
      len = snprintf(p, static_cast<size_t>(end - p), "bytes */%llu",
                     static_cast<unsigned long long>(reply.size));
    if (len < 0 || p + len >= end) return 0;
    push("content-range", std::string_view(p, static_cast<size_t>(len)));
    p += len;
  } else if (reply.kind == Kind::kMultipart) {
    const int len = snprintf(p, static_cast<size_t>(end - p), "multipart/byteranges; boundary=%s",
                             reply.boundary);
    if (len < 0 || p + len >= end) return 0;
    push("content-type", std::string_view(p, static_cast<size_t>(len)));
    p += len;
  }
  if (sends_length(reply)) {
    std::string_view length;
    write_number(p, end, reply.content_length, length, ok);
    push("content-length", length);
  }
  return ok ? n : 0;
}

}  // namespace proxy
