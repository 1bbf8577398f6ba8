// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "conf/config.h"
#include "proxy/base/clock.h"
#include "proxy/connection.h"
#include "proxy/downstream/downstream.h"
#include "proxy/http/parser.h"
#include "proxy/io/transport.h"

namespace proxy {

class EventLoop;
struct Exchange;
struct ListenerRef;

// A client connection speaking HTTP/1.1: reads and parses request heads and bodies, hands each
// request to the pipeline, writes the exchange's output, and keeps the connection alive between
// requests. Pipelined requests are answered one after the other, in order.
//
// Over TLS it first drives the handshake (within client_header), then hands the connection to
// HTTP/2 if ALPN chose "h2". On a plain listener a first request that starts with the HTTP/2
// connection preface is handed over the same way (h2c with prior knowledge, RFC 9113 3.3).
//
// Memory: an idle keep-alive connection holds only this object (no buffers): the head block and
// the exchange are taken from the loop's pools when a request starts and returned after it.
class Http1Connection final : public Connection, public Downstream {
 public:
  Http1Connection(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                  socklen_t peer_len, const ListenerRef& listener);
  // A plain socket.
  Http1Connection(EventLoop& loop, int fd, const sockaddr* peer, socklen_t peer_len,
                  const ListenerRef& listener)
      : Http1Connection(loop, io::Transport(fd), peer, peer_len, listener) {}
  Http1Connection(const Http1Connection&) = delete;
  Http1Connection& operator=(const Http1Connection&) = delete;

  void start();
  // Before start(): the connection is over a connection limit and was not counted under it. Its
  // first request head (within a short deadline) gets a 503 with |why| and the close; an HTTP/2
  // one (h2 or h2c) gets it on its streams, then the GOAWAY. It releases the loop's over-limit
  // place, not a connection's, when it closes.
  void set_over_limit(const char* why) { over_limit_ = why; }

  // The receive_body stage: read the request body, then resume the pipeline.
  void read_body() override;
  // Streaming body: the backend took bytes; read on if the window was full.
  void body_taken() override;
  // The exchange has new output, or its backend finished: write what the client takes.
  void output_ready() override;
  // A 101: the client's connection and |backend| become a Tunnel (http1_upgrade.cc); this
  // object then goes away.
  void upgrade(io::Transport&& backend, std::string_view early) override;
  // Graceful stop: close now if idle, else after the current response.
  void drain() override;

  const sockaddr* peer() const override { return reinterpret_cast<const sockaddr*>(&peer_); }
  // Writes the client's IP as text (for X-Forwarded-For and logs); returns its length.
  size_t format_client_ip(char* buf, size_t cap) const;
  const ListenerRef& listener() const override { return listener_; }
  bool tls() const override { return transport_.tls(); }

 private:
  enum class State : uint8_t { kHandshake, kHead, kBody, kBusy, kLinger };

  ~Http1Connection();
  static void on_event(evutil_socket_t fd, short what, void* arg);
  void handle(short what);
  void on_timeout();
  void drive();
  void step_handshake();
  void step_head();
  void step_body();
  // step_body while the pipeline runs (buffering: off), telling the backend what arrived.
  void step_body_stream();
  void step_write();
  void step_linger();
  // A TLS listener got plain HTTP: answer 400 in plain text, log it, then linger and close.
  void answer_plain_http();
  bool parse_head();
  bool decode_body(size_t& pos);
  void begin_exchange();
  void reject(int status, const char* why);
  void finish_exchange();
  void enter_head_state(bool keep_buffer);
  void set_timeout(const timeval* tv);
  void close();
  // An orderly close: over TLS, close_notify first, so the client can tell it from a cut.
  void close_gracefully();
  // Gives the socket (and the session counters) to the HTTP/2 codec; this object then goes away.
  void hand_over_to_http2(std::string_view already_read);
  // h2c: true when the bytes in in_ are known not to be the HTTP/2 preface (parse them as
  // HTTP/1.1); false while they still may be, or once they were handed over (closed_ is then set).
  bool check_h2c_preface();
  socklen_t peer_len() const;
  // After an EAGAIN from the transport: wait for the readiness it asked for.
  void wait_read();
  void wait_write();
  void send_continue();
  base::TimePoint now() const;
  int64_t head_deadline_from_now() const;
  bool past_head_deadline() const;
  // Makes the event's timer, last armed for |armed| (restarted at every event), fire by
  // |deadline| (now_us()).
  void wake_at(int64_t deadline, conf::Duration armed);
  // Waiting for more of a request head: the timer fires by head_deadline_.
  void keep_head_deadline();

  EventLoop& loop_;
  const ListenerRef& listener_;
  event ev_;
  io::Transport transport_;
  State state_ = State::kHead;
  bool readable_ = true;      // edge-triggered: true until a read says EAGAIN
  bool peer_closed_ = false;  // EV_CLOSED seen: the next reads end in EOF
  bool writable_ = true;
  bool driving_ = false;
  bool timed_out_ = false;  // a timeout fired: handled at the next turn of drive()
  bool again_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool first_request_ = true;
  bool h2c_possible_ = false;      // plain listener, first request, preface not ruled out yet
  bool read_waits_write_ = false;  // TLS: a read said EAGAIN until the socket takes bytes
  bool write_waits_read_ = false;  // TLS: a write said EAGAIN until bytes come in
  bool streaming_body_ = false;    // the body still arrives beside the pipeline (buffering: off)

  // Input: the request head, then body bytes and pipelined requests behind it.
  char* in_ = nullptr;
  uint32_t in_len_ = 0;        // bytes held
  uint32_t in_scanned_ = 0;    // head-end scan position
  uint32_t head_len_ = 0;      // length of the parsed head, 0 while none
  uint32_t body_pos_ = 0;      // first unconsumed body byte in in_
  uint64_t body_left_ = 0;     // Content-Length bytes still to come
  int64_t head_deadline_ = 0;  // EventLoop::now_us(): the whole head must arrive by then
  int64_t blocked_since_ = 0;  // now_us() when the client stopped taking bytes, 0 if it takes them
  uint64_t linger_bytes_ = 0;

  Exchange* ex_ = nullptr;
  const char* over_limit_ = nullptr;  // see set_over_limit()
  sockaddr_in6 peer_{};  // AF_INET or AF_INET6 (AF_UNIX listeners: family AF_UNIX, no address)
};

}  // namespace proxy
