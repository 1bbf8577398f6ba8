// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <string_view>

#include "proxy/io/transport.h"

namespace proxy {

class EventLoop;
struct ListenerRef;

// Takes over a client connection that speaks HTTP/2: after ALPN chose "h2", or on a plain
// listener when the first bytes are the connection preface (h2c with prior knowledge).
// |already_read| holds the bytes received so far, the preface included; the session reads them
// first. From here on the HTTP/2 connection owns the transport and the connection's counting: it
// releases loop.shared().connections and the per-client slot when it closes.
void start_http2(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                 socklen_t peer_len, const ListenerRef& listener, std::string_view already_read);

}  // namespace proxy
