// SPDX-License-Identifier: MIT
// RFC 8441 WebSockets on HTTP/2 streams: Http2Stream::upgrade and the Http2Tunnel it starts.
#include "proxy/downstream/http2_tunnel.h"

#include <cerrno>

#include "proxy/base/log.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/downstream/http2_stream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"

namespace proxy {

void Http2Stream::upgrade(io::Transport&& backend, std::string_view early) {
  // The client was answered 200 (submit_response): that is what it sees and what is logged.
  ex->status = 200;
  ex->out.configure(Http2Tunnel::kOutputLimit, 0, ex->runtime->config->buffering.temp_path.c_str());
  if (!early.empty() && !ex->out.append(early.data(), early.size())) ex->aborted = true;
  tunnel_ =
      new Http2Tunnel(*this, conn_.loop(), std::move(backend), conn_.loop().timeouts().client_idle);
  conn_.wake(this);  // the first pump comes with the stream's turn
}

Http2Tunnel::Http2Tunnel(Http2Stream& stream, EventLoop& loop, io::Transport&& backend,
                         const timeval* idle)
    : stream_(stream), backend_(std::move(backend)), idle_(idle) {
  event_assign(&ev_, loop.base(), backend_.fd(),
               EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST, on_event, this);
  event_add(&ev_, nullptr);
  evtimer_assign(&timer_, loop.base(), on_timer, this);
  event_add(&timer_, idle_);
}

Http2Tunnel::~Http2Tunnel() {
  event_del(&ev_);
  event_del(&timer_);
}

void Http2Tunnel::on_event(evutil_socket_t, short what, void* arg) {
  auto* t = static_cast<Http2Tunnel*>(arg);
  if (what & EV_READ) t->readable_ = true;
  if (what & EV_CLOSED) t->readable_ = t->peer_closed_ = true;
  if (what & EV_WRITE) t->writable_ = true;
  t->pump(true);
}

void Http2Tunnel::on_timer(evutil_socket_t, short, void* arg) {
  static_cast<Http2Tunnel*>(arg)->reset(NGHTTP2_CANCEL, "client_idle");
}

void Http2Tunnel::reset(uint32_t code, const char* why) {
  if (failed_) return;
  failed_ = true;
  Http2Stream& s = stream_;
  LOG_DEBUG("client %s: HTTP/2 stream %d: WebSocket closed: %s", s.ex->client_ip, s.id, why);
  event_del(&ev_);
  event_del(&timer_);
  s.ex->aborted = code != NGHTTP2_CANCEL;
  nghttp2_submit_rst_stream(s.conn_.session(), NGHTTP2_FLAG_NONE, s.id, code);
  s.conn_.wake(&s);  // the RST_STREAM leaves with the connection's next flush
}

void Http2Tunnel::output_drained() {
  if (!paused_ || failed_) return;
  paused_ = false;
  stream_.conn_.wake(&stream_);
}

void Http2Tunnel::pump(bool from_event) {
  if (failed_) return;
  Http2Stream& s = stream_;
  Exchange& ex = *s.ex;
  const int fd = backend_.fd();
  bool changed = false;
  // Client to backend: the window of what the backend took goes back to the client.
  while (writable_ && !ex.request_body.empty()) {
    const ssize_t n = ex.request_body.write_to(fd);
    if (n > 0) {
      const size_t k = static_cast<size_t>(n);
      s.held_ -= k < s.held_ ? k : s.held_;
      nghttp2_session_consume_stream(s.conn_.session(), s.id, k);
      changed = true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      writable_ = false;
      break;
    }
    if (n < 0 && errno == EINTR) continue;
    reset(NGHTTP2_CONNECT_ERROR, "backend write failed");
    return;
  }
  if (s.client_ended_ && ex.request_body.empty() && !shut_) {
    backend_.shutdown_write();
    shut_ = true;
  }
  // Backend to client, while the output has room.
  while (readable_ && !eof_) {
    const uint64_t held = ex.out.size();
    if (held >= kOutputLimit) {
      paused_ = true;
      break;
    }
    const size_t want = static_cast<size_t>(kOutputLimit - held);
    const ssize_t n = ex.out.read_from(fd, want);
    if (n > 0) {
      if (static_cast<size_t>(n) < want && !peer_closed_) readable_ = false;
      changed = true;
      continue;
    }
    if (n == 0) {
      eof_ = true;
      ex.upstream_done = true;  // END_STREAM once the output is sent
      changed = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      break;
    }
    if (errno == EINTR) continue;
    reset(NGHTTP2_CONNECT_ERROR, "backend connection reset");
    return;
  }
  if (changed) event_add(&timer_, idle_);
  if (changed && from_event) s.conn_.wake(&s);
}

}  // namespace proxy
