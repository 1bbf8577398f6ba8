// SPDX-License-Identifier: MIT
#include "cache/freshness.h"
#include "proxy/cache_reply.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/http/headers.h"
#include "proxy/io/head_builder.h"
#include "proxy/stages/response_fields.h"
#include "proxy/stages/stages.h"
#include "proxy/stages/status_text.h"

namespace proxy::stages {
namespace {

constexpr uint64_t kH2ResponseMemory = 64 * 1024;

void connection_fields(Exchange& ex, io::HeadBuilder& h) {
  if (ex.close_after)
    h.add("Connection: close\r\n");
  else if (ex.request.version_minor == 0)
    h.add("Connection: keep-alive\r\n");
}

void status_field(const Exchange& ex, io::HeadBuilder& h) {
  std::string_view value;
  if (const std::string_view name = cache_status_field(ex, value); !name.empty())
    h.field(name, value);
}

void deliver_local(Exchange& ex, io::HeadBuilder& h) {
  const int status = ex.status;
  const std::string_view reason = reason_phrase(status);
  char text[96];
  const std::string_view body = local_body_text(ex, text, sizeof text);
  const size_t body_len = body.size();
  h.add("HTTP/1.1 ").add_number(static_cast<uint64_t>(status)).add(" ").add(reason).add("\r\n");
  h.add("Date: ").add(ex.loop->http_date()).add("\r\n");
  h.add("Server: gatehouse\r\n");
  if (const std::string_view allow = local_allow(ex); !allow.empty())
    h.add("Allow: ").add(allow).add("\r\n");
  if (body_len > 0) h.add("Content-Type: ").add(local_content_type(ex)).add("\r\n");
  status_field(ex, h);
  h.add("Content-Length: ").add_number(static_cast<uint64_t>(body_len)).add("\r\n");
  if (status == 408 || status == 400 || status == 413 || status == 414 || status == 431 ||
      status == 505 || status == 501)
    ex.close_after = true;
  connection_fields(ex, h);
  h.add("\r\n");
  ex.head_bytes = h.size();
  if (ex.request.method != http::Method::kHead) h.add(body);
}

void deliver_upstream(Exchange& ex, io::HeadBuilder& h) {
  const auto& resp = ex.response;
  const auto& req = ex.request;
  h.add("HTTP/1.1 ").add_number(static_cast<uint64_t>(resp.status)).add(" ");
  h.add(resp.reason.empty() ? reason_phrase(resp.status) : resp.reason).add("\r\n");
  const http::ConnectionOptions connection(resp.headers);
  bool has_date = false;
  for (const auto& f : resp.headers) {
    if (!forwarded_response_field(resp, f, connection) || cache_only_field(ex, f.name)) continue;
    if (!has_date && http::iequals(f.name, "date")) has_date = true;
    h.field(f.name, f.value);
  }
  if (!has_date) h.add("Date: ").add(ex.loop->http_date()).add("\r\n");
  h.add("Via: 1.1 gatehouse\r\n");
  status_field(ex, h);
  if (resp.status == 101) {
    // The switch to WebSocket (RFC 9110 15.2.2), checked by the upstream: Connection and Upgrade
    // are hop-by-hop, so they are named again for the client's hop. No body, no keep-alive.
    h.add("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    return;
  }
  if (response_has_body(ex, resp.status)) {
    switch (resp.framing) {
      case http::Framing::kLength:
        h.add("Content-Length: ").add_number(resp.content_length).add("\r\n");
        break;
      case http::Framing::kChunked:
      case http::Framing::kUntilClose:
        if (req.version_minor >= 1) {
          ex.chunked_out = true;
          h.add("Transfer-Encoding: chunked\r\n");
        } else {
          ex.close_after = true;  // an HTTP/1.0 client learns the end from the close
        }
        break;
      case http::Framing::kNone:
        break;
    }
  }
  connection_fields(ex, h);
  h.add("\r\n");
  ex.head_bytes = h.size();
}

// HTTP/2: the stream sends the head as a HEADERS frame (downstream/http2_response.cc); only a
// local body goes to the output here.
Next deliver_h2(Exchange& ex) {
  ex.response_ready = true;
  if (ex.local_response) {
    char text[96];
    const std::string_view body = local_body_text(ex, text, sizeof text);
    if (!body.empty() && response_has_body(ex, ex.status) && !ex.out.append(body))
      ex.aborted = true;
    ex.upstream_done = true;
    return Next::kContinue;  // the pipeline hands the output over
  }
  // One client may hold up to 128 responses at once: each keeps less in memory than an HTTP/1.1
  // response and spills to the temporary file sooner (streaming ones keep their small window).
  if (!ex.streaming) {
    const auto& b = ex.runtime->config->buffering;
    ex.out.configure(b.response_memory < kH2ResponseMemory ? b.response_memory : kH2ResponseMemory,
                     b.max_temp_file, b.temp_path.c_str());
  }
  // The backend's head (which the fields point into) may be gone by the time the backend next
  // calls: the stream takes the fields now.
  ex.downstream->output_ready();
  return Next::kContinue;
}

// A response planned from a representation (cache_reply.h), a stored object or a file: its head
// from the representation's fields (with Age, RFC 9111 5.1, and the status header for a stored
// object); the body comes from its producer (ex.producer).
Next deliver_planned(Exchange& ex) {
  const PlannedReply planned = planned_reply(ex);
  ex.status = planned.reply->status;
  ex.upstream_done = false;
  if (ex.downstream->http2()) {
    ex.response_ready = true;  // the stream writes the HEADERS frame (http2_response.cc)
    return Next::kContinue;    // the pipeline then starts the producer
  }
  io::HeadBuilder h(ex.loop->scratch(), EventLoop::kScratchSize);
  const Http1Framing framing = write_http1_head(*planned.reply, *planned.fields, planned.extra,
                                                ex.request.version_minor, ex.close_after, h);
  ex.chunked_out = framing.chunked;
  if (framing.close_after) ex.close_after = true;
  ex.head_bytes = h.size();
  if (!h.ok() || !ex.out.append(h.view())) ex.aborted = true;
  return Next::kContinue;
}

}  // namespace

ReplyFields cached_reply_fields(Exchange& ex) {
  ReplyFields f;
  const auto& c = ex.caching;
  f.age = cache::current_age(c.served->head().freshness(), ex.loop->cached_seconds());
  f.status_header = cache_status_field(ex, f.status_value);
  f.date = ex.loop->http_date();
  return f;
}

PlannedReply planned_reply(Exchange& ex) {
  PlannedReply p;
  if (ex.file.serving()) {
    p.reply = &ex.file.reply;
    p.fields = &ex.file.fields;
    p.extra.status_header = cache_status_field(ex, p.extra.status_value);
    p.extra.date = ex.loop->http_date();
    p.extra.send_age = false;
    p.extra.send_via = ex.file.via;
    return p;
  }
  p.reply = &ex.caching.body->reply();
  p.fields = &ex.caching.fields;
  p.extra = cached_reply_fields(ex);
  return p;
}

Next deliver(Exchange& ex) {
  if (ex.caching.serving() || ex.file.serving()) return deliver_planned(ex);
  if (ex.downstream->http2()) return deliver_h2(ex);
  io::HeadBuilder h(ex.loop->scratch(), EventLoop::kScratchSize);
  if (ex.local_response) {
    deliver_local(ex, h);
    ex.upstream_done = true;
  } else {
    deliver_upstream(ex, h);
  }
  if (!h.ok()) {
    // Only a backend head can be this large: refuse it rather than cut it.
    ex.local_response = true;
    ex.status = 502;
    ex.error_detail = "backend response head too large";
    ex.close_after = true;
    h = io::HeadBuilder(ex.loop->scratch(), EventLoop::kScratchSize);
    deliver_local(ex, h);
    ex.upstream_done = true;
  }
  if (auto ok = ex.out.append(h.view()); !ok) {
    ex.aborted = true;
    ex.upstream_done = true;
  }
  return Next::kContinue;  // the pipeline then hands the output to the connection
}

}  // namespace proxy::stages
