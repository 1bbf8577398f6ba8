// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <string_view>

#include "proxy/io/transport.h"

namespace proxy {

struct ListenerRef;

// The client side of one exchange, as the pipeline and the upstream see it: an HTTP/1.1
// connection (one exchange at a time) or one HTTP/2 stream. Small on purpose: the stages ask for
// the body and announce output; everything else about the protocol stays in the codec.
class Downstream {
 public:
  // The receive_body stage: receive the request body, then resume the pipeline. With
  // ex.streaming the body is received alongside the backend request instead: this returns at once,
  // the pipeline is not resumed, and ex.request_body holds at most a small window of it; each new
  // piece (and the end) is announced to ex.upstream with body_ready().
  virtual void read_body() = 0;
  // Streaming request body: the upstream took bytes out of ex.request_body, so there is room to
  // receive more from the client (HTTP/1: read the socket again; HTTP/2: give back window).
  virtual void body_taken() = 0;
  // The exchange has new output, or its backend finished: send what the client takes.
  virtual void output_ready() = 0;
  // The backend switched to WebSocket (a 101 to ex.request.upgrade_websocket): the deliver stage
  // has decided the response; |backend| is the backend's connection, |early| the bytes it sent
  // after the 101 head (valid only during the call). The downstream relays bytes between the
  // client and |backend| from now on (HTTP/1.1: a Tunnel; HTTP/2: the stream's DATA frames). The
  // exchange is detached from its upstream already.
  virtual void upgrade(io::Transport&& backend, std::string_view early) = 0;

  virtual const sockaddr* peer() const = 0;
  virtual const ListenerRef& listener() const = 0;
  // The client came over TLS (X-Forwarded-Proto: https).
  virtual bool tls() const = 0;
  // An HTTP/2 stream: the deliver stage leaves the response head to the codec (a HEADERS frame,
  // not text in the output) and never chunks the body.
  virtual bool http2() const { return false; }

 protected:
  ~Downstream() = default;
};

}  // namespace proxy
