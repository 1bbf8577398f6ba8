// SPDX-License-Identifier: MIT
#include <cstdio>

#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/http/headers.h"
#include "proxy/io/head_builder.h"
#include "proxy/stages/stages.h"
#include "proxy/stages/status_text.h"

namespace proxy::stages {
namespace {

bool has_body(const Exchange& ex, int status) {
  return ex.request.method != http::Method::kHead && status >= 200 && status != 204 &&
         status != 304;
}

// Fields that never pass from a backend to a client: hop-by-hop ones, framing (ours is set
// below), and gatehouse's own X-Accel-* instructions.
bool dropped_response_field(std::string_view name) {
  if (http::is_hop_by_hop(name) || http::iequals(name, "content-length")) return true;
  return name.size() > 8 && http::iequals(name.substr(0, 8), "x-accel-");
}

void connection_fields(Exchange& ex, io::HeadBuilder& h) {
  if (ex.close_after)
    h.add("Connection: close\r\n");
  else if (ex.request.version_minor == 0)
    h.add("Connection: keep-alive\r\n");
}

void deliver_local(Exchange& ex, io::HeadBuilder& h) {
  const int status = ex.status;
  const std::string_view reason = reason_phrase(status);
  char body[96];
  int body_len = 0;
  if (!(status == 200 && ex.request.asterisk))
    body_len = snprintf(body, sizeof body, "%d %.*s\n", status, static_cast<int>(reason.size()),
                        reason.data());
  h.add("HTTP/1.1 ").add_number(static_cast<uint64_t>(status)).add(" ").add(reason).add("\r\n");
  h.add("Date: ").add(ex.loop->http_date()).add("\r\n");
  h.add("Server: gatehouse\r\n");
  if (ex.request.asterisk && status == 200)
    h.add("Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n");
  if (body_len > 0) h.add("Content-Type: text/plain; charset=utf-8\r\n");
  h.add("Content-Length: ").add_number(static_cast<uint64_t>(body_len)).add("\r\n");
  if (status == 408 || status == 400 || status == 413 || status == 414 || status == 431 ||
      status == 505 || status == 501)
    ex.close_after = true;
  connection_fields(ex, h);
  h.add("\r\n");
  if (ex.request.method != http::Method::kHead) h.add(std::string_view(body, body_len));
}

void deliver_upstream(Exchange& ex, io::HeadBuilder& h) {
  const auto& resp = ex.response;
  const auto& req = ex.request;
  h.add("HTTP/1.1 ").add_number(static_cast<uint64_t>(resp.status)).add(" ");
  h.add(resp.reason.empty() ? reason_phrase(resp.status) : resp.reason).add("\r\n");
  const http::Header* connection = resp.headers.find("connection");
  bool has_date = false;
  for (const auto& f : resp.headers) {
    if (dropped_response_field(f.name)) {
      // HEAD and 304 carry the representation's length without a body: keep it.
      if (resp.framing == http::Framing::kNone && http::iequals(f.name, "content-length"))
        h.field(f.name, f.value);
      continue;
    }
    if (connection && http::list_contains(connection->value, f.name)) continue;
    if (!has_date && http::iequals(f.name, "date")) has_date = true;
    h.field(f.name, f.value);
  }
  if (!has_date) h.add("Date: ").add(ex.loop->http_date()).add("\r\n");
  h.add("Via: 1.1 gatehouse\r\n");
  if (has_body(ex, resp.status)) {
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
}

}  // namespace

Next deliver(Exchange& ex) {
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
