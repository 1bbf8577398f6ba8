// SPDX-License-Identifier: MIT
// An HTTP/1.1 connection after the backend's 101: the client's bytes and the backend's become a
// Tunnel, and the HTTP/1.1 connection ends.
#include "proxy/downstream/http1_connection.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/pipeline.h"
#include "proxy/tunnel.h"

namespace proxy {

void Http1Connection::upgrade(io::Transport&& backend, std::string_view early) {
  auto* tunnel = new Tunnel(loop_, std::move(transport_), std::move(backend), peer(), peer_len(),
                            loop_.timeouts().client_idle);
  // The 101 head (memory: a head never spills), then what the backend sent behind it, and the
  // bytes the client sent behind its request.
  const uint64_t head_len = ex_->out.size();
  ex_->out.move_to(tunnel->output_to_a(), static_cast<size_t>(head_len));
  tunnel->queue_to_a(early.data(), early.size());
  if (in_len_ > body_pos_) tunnel->queue_to_b(in_ + body_pos_, in_len_ - body_pos_);
  // The access log has the handshake (status 101); the tunnel's bytes are not a response body.
  ex_->bytes_out = head_len;
  pipeline::finish(*ex_);
  loop_.release_exchange(ex_);
  ex_ = nullptr;
  if (in_) {
    loop_.head_blocks().release(in_);
    in_ = nullptr;
  }
  event_del(&ev_);
  // Handed over: the tunnel closes the sockets and gives the client's place back.
  closed_ = true;
  tunnel->start();
  if (!driving_) delete this;
}

}  // namespace proxy
