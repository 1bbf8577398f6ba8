// SPDX-License-Identifier: MIT
#include "proxy/downstream/http2_connection.h"

#include "proxy/event_loop.h"

namespace proxy {

// Placeholder until the HTTP/2 codec lands: the connection is closed.
void start_http2(EventLoop& loop, io::Transport&& transport, const sockaddr* peer, socklen_t,
                 const ListenerRef&, std::string_view) {
  transport.close();
  loop.shared().connections.fetch_sub(1, std::memory_order_relaxed);
  if (loop.runtime().config->limits.max_connections_per_client > 0)
    loop.shared().per_client.release(peer);
}

}  // namespace proxy
