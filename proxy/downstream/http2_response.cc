// SPDX-License-Identifier: MIT
// The response head of an HTTP/2 stream as a HEADERS frame (RFC 9113 8.3.2): the same fields an
// HTTP/1.1 client gets (stages/response_fields.h), names in lower case, no connection-specific
// fields, no framing but Content-Length when the length is known (never on a 204). A response
// without a body (HEAD, 204, 304) ends on its HEADERS frame: no DATA.
#include <cstdio>
#include <string_view>

#include "proxy/base/log.h"
#include "proxy/cache_reply.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/downstream/http2_stream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/stages/response_fields.h"

namespace proxy {
namespace {

constexpr size_t kMaxFields = http::HeaderList::kCapacity + 8;

// nghttp2 copies names and values at submit time, so views into short-lived buffers are fine.
nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

ssize_t read_response_body(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*) {
  return static_cast<Http2Stream*>(source->ptr)->read_data(length, flags);
}

// |name| in lower case (RFC 9113 8.2.1) in |buf| (at least name.size() bytes).
std::string_view lower_into(std::string_view name, char* buf) {
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
  }
  return {buf, name.size()};
}

}  // namespace

// A response planned from a representation (a stored object, a file): the fields the reply plan
// gives (cache_reply.h), the body from the exchange's producer.
void Http2Stream::submit_planned() {
  Exchange& e = *ex;
  const stages::PlannedReply planned = stages::planned_reply(e);
  const CacheReply& reply = *planned.reply;
  H2Field plan[kMaxFields];
  const size_t count = http2_fields(reply, *planned.fields, planned.extra, plan, kMaxFields,
                                    conn_.loop().scratch(), EventLoop::kScratchSize);
  nghttp2_nv fields[kMaxFields];
  for (size_t i = 0; i < count; ++i) fields[i] = nv(plan[i].name, plan[i].value);
  nghttp2_data_provider body{};
  body.source.ptr = this;
  body.read_callback = read_response_body;
  const bool has_body = !reply.head_only && reply.segment_count > 0;
  const int rv = count == 0 ? NGHTTP2_ERR_INVALID_ARGUMENT
                            : nghttp2_submit_response(conn_.session(), id, fields, count,
                                                      has_body ? &body : nullptr);
  if (rv != 0) {
    LOG_DEBUG("client %s: HTTP/2 stream %d: cannot submit the planned response: %s", e.client_ip,
              id, nghttp2_strerror(rv));
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
  }
}

void Http2Stream::submit_response() {
  headers_sent_ = true;
  Exchange& e = *ex;
  nghttp2_nv fields[kMaxFields];
  size_t n = 0;
  char status[8];
  // RFC 8441 5: the backend's 101 to a WebSocket handshake is the stream's 200, then DATA.
  const bool tunnel = e.status == 101 && !e.local_response;
  snprintf(status, sizeof status, "%03d", tunnel ? 200 : e.status);
  fields[n++] = nv(":status", status);
  char length[24];
  bool has_body = false;
  char local[96];
  std::string_view status_value;
  const std::string_view status_name = stages::cache_status_field(e, status_value);
  char status_lower[64];
  if (e.caching.serving() || e.file.serving()) {
    submit_planned();
    return;
  }
  if (e.local_response) {
    const size_t body_len = stages::local_body_text(e, local, sizeof local).size();
    fields[n++] = nv("date", conn_.loop().http_date());
    fields[n++] = nv("server", "gatehouse");
    if (const std::string_view allow = stages::local_allow(e); !allow.empty())
      fields[n++] = nv("allow", allow);
    if (body_len > 0) fields[n++] = nv("content-type", stages::local_content_type(e));
    if (!status_name.empty() && status_name.size() <= sizeof status_lower)
      fields[n++] = nv(lower_into(status_name, status_lower), status_value);
    snprintf(length, sizeof length, "%zu", body_len);
    fields[n++] = nv("content-length", length);
    has_body = body_len > 0 && stages::response_has_body(e, e.status);
  } else {
    // All the streams of this client share one max_temp_file (a client with many streams must
    // not fill the disk); streaming bodies never spill.
    if (!e.streaming) e.out.share_file_budget(&conn_.temp_files());
    const auto& resp = e.response;
    const http::ConnectionOptions connection(resp.headers);
    // Names go to lower case (RFC 9113 8.2.1) in the loop's scratch, free while we run.
    char* lower = conn_.loop().scratch();
    size_t used = 0;
    bool has_date = false;
    for (const auto& f : resp.headers) {
      if (!stages::forwarded_response_field(resp, f, connection) ||
          stages::cache_only_field(e, f.name))
        continue;
      // The accept answers the key the proxy made (checked by the upstream): not the client's.
      if (tunnel && http::iequals(f.name, "sec-websocket-accept")) continue;
      if (n + 4 > kMaxFields || used + f.name.size() > EventLoop::kScratchSize) break;
      for (size_t i = 0; i < f.name.size(); ++i) {
        const char c = f.name[i];
        lower[used + i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
      }
      const std::string_view name(lower + used, f.name.size());
      used += f.name.size();
      // RFC 9110 8.6: never on a 204, whatever the backend said (a client takes it for an error).
      if (resp.status == 204 && name == "content-length") continue;
      if (name == "date") has_date = true;
      fields[n++] = nv(name, f.value);
    }
    if (!has_date) fields[n++] = nv("date", conn_.loop().http_date());
    fields[n++] = nv("via", "1.1 gatehouse");
    if (!status_name.empty() && status_name.size() <= sizeof status_lower)
      fields[n++] = nv(lower_into(status_name, status_lower), status_value);
    has_body = tunnel ||
               (stages::response_has_body(e, resp.status) && resp.framing != http::Framing::kNone);
    if (has_body && resp.framing == http::Framing::kLength) {
      snprintf(length, sizeof length, "%llu", static_cast<unsigned long long>(resp.content_length));
      fields[n++] = nv("content-length", length);
    }
  }
  nghttp2_data_provider body{};
  body.source.ptr = this;
  body.read_callback = read_response_body;
  const int rv =
      nghttp2_submit_response(conn_.session(), id, fields, n, has_body ? &body : nullptr);
  if (rv != 0) {
    LOG_DEBUG("client %s: HTTP/2 stream %d: cannot submit the response: %s", e.client_ip, id,
              nghttp2_strerror(rv));
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
  }
}

void Http2Stream::submit_continue() {
  const nghttp2_nv status = nv(":status", "100");
  nghttp2_submit_headers(conn_.session(), NGHTTP2_FLAG_NONE, id, nullptr, &status, 1, nullptr);
}

}  // namespace proxy
