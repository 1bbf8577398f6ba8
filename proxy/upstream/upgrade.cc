// SPDX-License-Identifier: MIT
// The upgrade half of UpstreamConnection: a backend's 101 to a WebSocket handshake turns its
// connection into the backend side of a tunnel (RFC 9110 7.8, 15.2.2; RFC 6455 4; RFC 8441 5).
#include <chrono>

#include "proxy/base/log.h"
#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/http/headers.h"
#include "proxy/upstream/upstream_connection.h"
#include "proxy/upstream/upstream_pools.h"
#include "proxy/websocket.h"

namespace proxy {
namespace {

// Why a 101 cannot be passed on, or nullptr when it can.
const char* refusal(const Exchange& ex) {
  const auto& resp = ex.response;
  if (!ex.request.upgrade_websocket) return "backend switched protocols unasked";
  const http::Header* upgrade = resp.headers.find("upgrade");
  if (!upgrade || !http::list_contains(upgrade->value, "websocket"))
    return "backend switched to a protocol other than websocket";
  if (ex.request.http2) {
    // The key was ours (RFC 8441 5): the answer is checked here, since the client never sees it.
    const http::Header* accept = resp.headers.find("sec-websocket-accept");
    char expected[kWebSocketAcceptLength];
    websocket_accept(std::string_view(ex.websocket_key, kWebSocketKeyLength), expected);
    if (!accept || accept->value != std::string_view(expected, sizeof expected))
      return "backend's Sec-WebSocket-Accept does not match the key";
  }
  return nullptr;
}

}  // namespace

void UpstreamConnection::switch_protocols(size_t end) {
  Exchange& ex = *ex_;
  if (const char* why = refusal(ex)) {
    LOG_WARN("backend %s: %s", server_->address.text.c_str(), why);
    fail(base::ErrorCode::kMalformed, why);
    return;
  }
  ex.status = 101;
  ex.upstream_time = std::chrono::duration_cast<base::Duration>(base::now() - ex.upstream_start);
  reusable_ = false;
  pipeline::resume(ex);     // deliver: the 101 head (HTTP/1.1) or the stream's 200 (HTTP/2)
  if (ex.local_response) {  // deliver refused the head (too large): the 502 replaces it
    detach();
    destroy();
    ex.downstream->output_ready();
    return;
  }
  if (event_added_) {
    event_del(&ev_);
    event_added_ = false;
  }
  io::Transport backend(fd_);
  fd_ = -1;
  ex.response.headers.clear();  // its views point into the block released below
  detach();
  ++busy_;
  // The exchange ends in there: nothing touches |ex| after.
  ex.downstream->upgrade(std::move(backend), std::string_view(head_ + end, head_len_ - end));
  --busy_;
  destroy();
}

}  // namespace proxy
