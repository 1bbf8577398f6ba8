// SPDX-License-Identifier: MIT
#include "proxy/upstream/request_head.h"

#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/http/headers.h"

namespace proxy {
namespace {

// Fields the proxy sets itself, so the client's values never pass.
bool replaced_by_proxy(std::string_view name) {
  using http::iequals;
  return iequals(name, "host") || iequals(name, "content-length") || iequals(name, "expect") ||
         iequals(name, "x-forwarded-for") || iequals(name, "x-forwarded-proto") ||
         iequals(name, "x-forwarded-host") || iequals(name, "x-upload-path") ||
         iequals(name, "x-upload-size") || iequals(name, "x-upload-sha256");
}

// A revalidation asks with the stored object's validators (RFC 9111 4.3.1), not the client's:
// the backend's 304 is about our copy, and the client's conditions are then judged against it.
bool replaced_by_validators(std::string_view name) {
  using http::iequals;
  return iequals(name, "if-none-match") || iequals(name, "if-modified-since") ||
         iequals(name, "if-match") || iequals(name, "if-unmodified-since") ||
         iequals(name, "if-range") || iequals(name, "range");
}

}  // namespace

bool streams_chunked(const Exchange& ex) {
  return ex.body_streaming && !ex.request_complete && ex.request.framing != http::Framing::kNone &&
         ex.request.framing != http::Framing::kLength;
}

void build_request_head(const Exchange& ex, io::HeadBuilder& out) {
  const auto& req = ex.request;
  // An internal redirect made the request a GET (or kept HEAD) whatever the client sent.
  if (ex.internal_redirects > 0)
    out.add(req.method == http::Method::kHead ? "HEAD " : "GET ");
  else
    out.add(req.method_name).add(" ");
  if (req.asterisk) {
    out.add("*");
  } else {
    out.add(req.path);
    if (req.has_query) out.add("?").add(req.query);
  }
  out.add(" HTTP/1.1\r\n");
  // An HTTP/1.0 request may come without a host; HTTP/1.1 then wants an empty Host (RFC 9112 3.2).
  out.field("Host", req.authority);

  const http::ConnectionOptions connection(req.headers);
  for (const auto& h : req.headers) {
    if (http::is_hop_by_hop(h.name) || replaced_by_proxy(h.name)) continue;
    if (connection.lists(h.name)) continue;
    if (ex.caching.revalidating && replaced_by_validators(h.name)) continue;
    // RFC 8441 5: an HTTP/2 client's key is not the one the backend must answer (ours, below).
    if (req.upgrade_websocket && req.http2 && http::iequals(h.name, "sec-websocket-key")) continue;
    out.field(h.name, h.value);
  }
  if (ex.caching.revalidating) out.add(ex.caching.validators);
  const std::string_view ip(ex.client_ip, ex.client_ip_len);
  // Earlier hops first, in order, even when they came on several lines (RFC 9110 5.3).
  out.add("X-Forwarded-For: ");
  for (const auto& h : req.headers)
    if (http::iequals(h.name, "x-forwarded-for") && !h.value.empty()) out.add(h.value).add(", ");
  out.add(ip).add("\r\n");
  if (req.upgrade_websocket) {
    // RFC 9110 7.8: Upgrade is hop-by-hop, so the proxy names it again for its own hop. An
    // HTTP/2 client sends no key (RFC 8441 5): the proxy makes one for the HTTP/1.1 side.
    out.add("Connection: Upgrade\r\nUpgrade: websocket\r\n");
    if (req.http2) out.field("Sec-WebSocket-Key", std::string_view(ex.websocket_key, 24));
  }
  out.field("X-Forwarded-Proto", ex.downstream->tls() ? "https" : "http");
  if (!req.authority.empty()) out.field("X-Forwarded-Host", req.authority);
  // RFC 9110 7.6.3: the protocol version the request came with.
  out.add("Via: ")
      .add(req.http2                ? "2"
           : req.version_minor == 0 ? "1.0"
                                    : "1.1")
      .add(" gatehouse\r\n");
  if (ex.upload.active() && ex.internal_redirects == 0) {
    // The body is in the file: the backend reads it from there, and gets none on the wire.
    out.field("X-Upload-Path", ex.upload.path());
    out.add("X-Upload-Size: ").add_number(ex.upload.size()).add("\r\n");
    out.field("X-Upload-SHA256", ex.upload.sha256());
    out.add("Content-Length: 0\r\n\r\n");
    return;
  }
  // A body received whole is sent with its length; one still arriving (buffering: off) keeps the
  // client's length, or is chunked when the client gave none.
  if (streams_chunked(ex))
    out.add("Transfer-Encoding: chunked\r\n");
  else if (req.framing != http::Framing::kNone)
    out.add("Content-Length: ")
        .add_number(ex.body_streaming && !ex.request_complete ? req.content_length
                                                              : ex.request_body_size)
        .add("\r\n");
  out.add("\r\n");
}

}  // namespace proxy
