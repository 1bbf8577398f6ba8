// SPDX-License-Identifier: MIT
#include "proxy/upstream/upstream_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/body_producer.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/pipeline.h"
#include "proxy/upstream/upstream_pools.h"

namespace proxy {
namespace {

constexpr size_t kStreamingMemory = 64 * 1024;

}  // namespace

UpstreamConnection::UpstreamConnection(EventLoop& loop, const UpstreamServer& server)
    : loop_(loop), server_(&server) {}

UpstreamConnection::~UpstreamConnection() {
  release_head_block();
  if (event_added_) event_del(&ev_);
  if (fd_ >= 0) ::close(fd_);
}

Next UpstreamConnection::forward(Exchange& ex) {
  ex.upstream_start = base::now();
  return begin(ex, false) ? Next::kSuspend : Next::kRespond;
}

bool UpstreamConnection::begin(Exchange& ex, bool fresh_connection) {
  EventLoop& loop = *ex.loop;
  const UpstreamServer* server =
      loop.upstreams().pick(*ex.pool, ex.attempts > 0 ? ex.server : nullptr);
  if (!server) {
    ex.status = 503;
    ex.error_detail = "pool has no server";
    return false;
  }
  ex.server = server;
  ++ex.attempts;
  UpstreamConnection* c = fresh_connection ? nullptr : loop.upstreams().take_idle(*server);
  if (!c) {
    c = new UpstreamConnection(loop, *server);
    if (!c->connect_now()) {
      int err = errno;
      delete c;
      EX_LOG_WARN(ex, "backend connect failed: %s", strerror(err));
      if (retry_allowed(ex)) return begin(ex, true);
      ex.status = 502;
      ex.error_detail = "backend connect failed";
      return false;
    }
  }
  c->attach(ex);
  c->start_request();
  return true;
}

bool UpstreamConnection::retry_allowed(const Exchange& ex) {
  const int max_attempts = 1 + (ex.pool->config ? ex.pool->config->retries : 0);
  // The same server again would only double the wait (a connect that timed out times out again).
  return ex.attempts < max_attempts && ex.pool->servers.size() > 1;
}

bool UpstreamConnection::connect_now() {
  const auto& addr = server_->address;
  fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  if (addr.family() != AF_UNIX) {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  int rc = ::connect(fd_, addr.get(), addr.length);
  if (rc != 0 && errno != EINPROGRESS) return false;
  state_ = rc == 0 ? State::kSending : State::kConnecting;
  writable_ = rc == 0;
  event_assign(&ev_, loop_.base(), fd_, EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
               on_event, this);
  event_add(&ev_, loop_.timeouts().backend_connect);
  event_added_ = true;
  return true;
}

void UpstreamConnection::attach(Exchange& ex) {
  ex_ = &ex;
  ex.upstream = this;
  ex.producer = this;
  // Taken now: an internal redirect may point the exchange at another pool before this
  // connection is parked.
  keepalive_ = ex.pool && ex.pool->config ? ex.pool->config->keepalive : 0;
  got_bytes_ = false;
  reusable_ = true;
  paused_ = false;
  request_sent_ = false;
  body_stream_ = body_chunked_ = body_end_queued_ = false;
  head_len_ = head_scanned_ = 0;
  body_left_ = 0;
  if (state_ == State::kIdle) {
    state_ = State::kSending;
    event_add(&ev_, loop_.timeouts().backend_response);
  }
}

void UpstreamConnection::on_event(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<UpstreamConnection*>(arg);
  ++self->busy_;
  self->handle(what);
  --self->busy_;
  if (self->dead_ && self->busy_ == 0) delete self;
}

void UpstreamConnection::handle(short what) {
  if (what & EV_READ) readable_ = true;
  // The peer's FIN may come with the last bytes in one edge: once it is known, reads go on until
  // they see the end, whatever their size.
  if (what & EV_CLOSED) readable_ = peer_closed_ = true;
  if (what & EV_WRITE) writable_ = true;
  if (what & EV_TIMEOUT) {
    switch (state_) {
      case State::kConnecting:
        fail(base::ErrorCode::kTimeout, "backend_connect timeout");
        return;
      case State::kSending:
        // Waiting for the client's next body bytes: its client_body timeout is the judge.
        if (waiting_for_client_body()) return;
        [[fallthrough]];
      case State::kHead:
        fail(base::ErrorCode::kTimeout, "backend_response timeout");
        return;
      case State::kBody:
        // Paused, the backend waits for the client (its own timeouts judge it), not the reverse.
        if (!paused_) body_broken("backend_response timeout mid-body");
        return;
      case State::kIdle:
        loop_.upstreams().forget_idle(this);
        destroy();
        return;
      case State::kClosed:
        return;
    }
  }
  switch (state_) {
    case State::kConnecting: {
      if (!writable_ && !readable_) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        sys_error_ = err;
        fail(base::ErrorCode::kConnectFailed, "backend connect failed");
        return;
      }
      state_ = State::kSending;
      event_add(&ev_, loop_.timeouts().backend_response);
      send_request();
      return;
    }
    case State::kSending:
      send_request();
      return;
    case State::kHead:
      read_head();
      return;
    case State::kBody:
      read_body();
      return;
    case State::kIdle:
      if (readable_) {  // the backend closed it, or sent bytes nobody asked for
        loop_.upstreams().forget_idle(this);
        destroy();
      }
      return;
    case State::kClosed:
      return;
  }
}

void UpstreamConnection::read_head() {
  if (!head_) head_ = loop_.head_blocks().acquire();
  const size_t cap = loop_.head_blocks().block_size();
  while (readable_) {
    const size_t want = cap - head_len_;
    ssize_t n = ::recv(fd_, head_ + head_len_, want, 0);
    if (n > 0) {
      // A short read drained the socket: the next byte will come with a new edge event.
      if (static_cast<size_t>(n) < want && !peer_closed_) readable_ = false;
      got_bytes_ = true;
      head_len_ += static_cast<uint32_t>(n);
      size_t end = http::find_head_end(std::string_view(head_, head_len_), head_scanned_);
      if (end > 0) {
        on_head(end);
        return;
      }
      head_scanned_ = head_len_;
      if (head_len_ == cap) {
        fail(base::ErrorCode::kMalformed, "backend response head too large");
        return;
      }
      continue;
    }
    if (n == 0) {
      fail(base::ErrorCode::kConnectionLost,
           got_bytes_ ? "backend closed mid-head" : "backend closed the connection");
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      return;
    }
    if (errno == EINTR) continue;
    fail(base::ErrorCode::kConnectionLost, "backend connection reset");
    return;
  }
}

void UpstreamConnection::on_head(size_t end) {
  for (;;) {
    Exchange& ex = *ex_;
    auto parsed =
        http::parse_response_head(std::string_view(head_, end), ex.request.method, ex.response);
    if (!parsed) {
      EX_LOG_WARN(ex, "backend sent a malformed response: %s", parsed.error().reason);
      fail(base::ErrorCode::kMalformed, parsed.error().reason);
      return;
    }
    if (ex.response.status >= 200) break;
    if (ex.response.status == 101) {
      switch_protocols(end);
      return;
    }
    // An interim 1xx: the client did not ask for it through us (Expect is ours): drop it.
    memmove(head_, head_ + end, head_len_ - end);
    head_len_ -= static_cast<uint32_t>(end);
    head_scanned_ = 0;
    end = http::find_head_end(std::string_view(head_, head_len_), 0);
    if (end == 0) {
      read_head();
      return;
    }
  }
  Exchange& ex = *ex_;
  const auto& cfg = *ex.runtime->config;
  if (const auto* h = ex.response.headers.find("x-accel-buffering");
      h && http::iequals(h->value, "no"))
    ex.streaming = true;
  if (ex.streaming)
    ex.out.configure(kStreamingMemory, 0, cfg.buffering.temp_path.c_str());
  else
    ex.out.configure(cfg.buffering.response_memory, cfg.buffering.max_temp_file,
                     cfg.buffering.temp_path.c_str());
  ex.status = ex.response.status;
  ex.upstream_time = std::chrono::duration_cast<base::Duration>(base::now() - ex.upstream_start);
  state_ = State::kBody;
  body_left_ = ex.response.content_length;
  if (ex.response.framing == http::Framing::kChunked) chunked_.reset();
  if (!request_sent_) {
    // An early answer: the rest of the request stays unsent, so this connection is done, and so
    // is the client's (HTTP/1.1) if its body is still coming.
    reusable_ = false;
    if (!ex.request_complete) ex.close_after = true;
  }

  // What the backend's head says, kept for an offloaded answer (the stages may reuse ex.response).
  const bool whole = response_whole_in_block(end);
  const bool keep_alive = ex.response.keep_alive;
  pipeline::resume(ex);  // deliver queues the client's head; the paths below hand it over
  if (ex.discard_upstream) {
    // X-Accel-Redirect / X-Sendfile: a file (or a local error) answers, the backend's body is
    // dropped. The connection is reused when that body came whole with the head (an empty
    // body, or a small one in the same read), else closed rather than read for nothing.
    Exchange* e = ex_;
    detach();
    release_head_block();
    ex.response.headers.clear();  // its views pointed into the block
    if (!whole || !park(ex, keep_alive)) destroy();
    if (e->redirect_pending) {  // an internal redirect to a pool: the request goes on from here
      e->redirect_pending = e->discard_upstream = false;
      pipeline::resume(*e, Next::kRedirect);
      return;
    }
    if (e->producer)
      e->producer->output_drained();
    else
      e->downstream->output_ready();
    return;
  }
  if (ex.local_response) {  // deliver refused the head (too large): the 502 replaces it
    detach();
    destroy();
    ex.downstream->output_ready();
    return;
  }
  if (ex.caching.detach_upstream) {
    // A stored object answers instead (a 304 refreshed it, or it stands in for a 5xx): this
    // response's body is not wanted. The connection goes back to the pool when the response is
    // already whole (a 304 has no body; a short error page may have come with its head), else
    // it closes (reading a body nobody wants would only hold the backend). The object's
    // producer adds its first bytes now.
    const bool whole = response_whole_in_block(end);
    detach();
    ex.response.headers.clear();  // its views point into the block released below
    release_head_block();
    if (!whole || !park(ex, ex.response.keep_alive)) destroy();
    if (!ex.producer) ex.upstream_done = true;  // nothing replaces it (a background fetch's)
    if (ex.producer)
      ex.producer->output_drained();
    else
      ex.downstream->output_ready();
    return;
  }

  // A Content-Length of 0 ends the response with its head, as no framing does: no read would
  // ever come to complete it (the exchange and the connection were held until the backend
  // closed).
  if (ex.response.framing == http::Framing::kNone ||
      (ex.response.framing == http::Framing::kLength && ex.response.content_length == 0)) {
    if (head_len_ > end) {
      EX_LOG_WARN(ex, "backend sent bytes after a bodiless response");
      reusable_ = false;
    }
    complete();
    return;
  }
  if (head_len_ > end && !consume(head_ + end, head_len_ - end)) return;
  if (state_ == State::kBody) read_body();
}

void UpstreamConnection::detach() {
  if (!ex_) return;
  if (ex_->upstream == this) ex_->upstream = nullptr;
  if (ex_->producer == this) ex_->producer = nullptr;
  ex_ = nullptr;
}

void UpstreamConnection::complete() {
  Exchange* ex = ex_;
  if (ex->caching.writer) {  // the body is whole: the object becomes visible to lookups
    ex->caching.writer->commit();
    ex->caching.writer.reset();
  }
  ex->upstream_done = true;
  ex->response.headers.clear();  // its views point into the block released below
  detach();
  release_head_block();
  const bool keep = park(*ex, ex->response.keep_alive);
  ++busy_;
  ex->downstream->output_ready();
  --busy_;
  if (!keep)
    destroy();
  else if (dead_ && busy_ == 0)
    delete this;
}

bool UpstreamConnection::response_whole_in_block(size_t head_end) const {
  const Exchange& ex = *ex_;
  const size_t rest = head_len_ - head_end;
  switch (ex.response.framing) {
    case http::Framing::kNone:
      return rest == 0;
    case http::Framing::kLength:
      return rest == ex.response.content_length;
    default:
      return false;  // chunked or until-close: not worth parsing for a body thrown away
  }
}

bool UpstreamConnection::park(const Exchange& ex, bool keep_alive) {
  // After an upgrade request the backend may have changed its mind about the connection.
  if (!reusable_ || !keep_alive || !request_sent_ || loop_.draining() ||
      ex.request.upgrade_websocket)
    return false;
  const auto kept = loop_.upstreams().put_idle(this, keepalive_);
  if (kept == UpstreamPools::Kept::kNo) return false;
  state_ = State::kIdle;
  reused_ = true;
  event_add(&ev_, kept == UpstreamPools::Kept::kWithinCap ? loop_.timeouts().upstream_idle
                                                          : loop_.timeouts().upstream_surplus);
  return true;
}

void UpstreamConnection::fail(base::ErrorCode code, const char* detail) {
  Exchange& ex = *ex_;
  const base::Error error = classify(code, detail);
  const bool stale = stale_pooled(code);
  // One line per failed attempt, with the request it was for.
  if (!stale && code != base::ErrorCode::kMalformed)
    EX_LOG_WARN(ex, "%s%s%s", detail, sys_error_ ? ": " : "",
                sys_error_ ? strerror(sys_error_) : "");
  sys_error_ = 0;
  detach();
  destroy();
  if (error.retry_safe) {
    if (stale) --ex.attempts;  // a stale pooled connection does not count as a try
    if (begin(ex, stale)) return;
    pipeline::respond(ex, ex.status, ex.error_detail);
    return;
  }
  pipeline::fail(ex, error);
}

bool UpstreamConnection::stale_pooled(base::ErrorCode code) const {
  return state_ != State::kConnecting && reused_ && !got_bytes_ &&
         code == base::ErrorCode::kConnectionLost;
}

base::Error UpstreamConnection::classify(base::ErrorCode code, const char* detail) const {
  const Exchange& ex = *ex_;
  bool safe = false;
  if (state_ == State::kConnecting) {
    // Nothing reached the backend (refused, failed, timed out): any request may go to another
    // server, its body untouched.
    safe = retry_allowed(ex);
  } else if (stale_pooled(code)) {
    // A pooled connection the backend had closed meanwhile: the request never reached it. The
    // body was consumed by the first send, so only bodiless idempotent requests go again, on a
    // fresh connection.
    // A WebSocket handshake is never sent twice (it may have reached the backend).
    safe = ex.request_body_size == 0 && http::is_idempotent(ex.request.method) &&
           !ex.request.upgrade_websocket;
  }
  // Anything else (a response timeout above all) may have been acted on: never sent twice.
  return base::Error{code, base::Side::kUpstream, safe, detail};
}

void UpstreamConnection::body_broken(const char* detail) {
  Exchange* ex = ex_;
  if (ex->caching.writer) {  // a truncated or malformed body is never stored
    ex->caching.writer->abort();
    ex->caching.writer.reset();
  }
  ex->aborted = true;
  ex->upstream_done = true;
  ex->response.headers.clear();
  ex->error_detail = detail;
  detach();
  destroy();
  ex->downstream->output_ready();
}

void UpstreamConnection::abandon() {
  detach();
  destroy();
}

bool UpstreamConnection::idle_check_alive() {
  if (state_ == State::kIdle && !readable_) return true;
  destroy();
  return false;
}

void UpstreamConnection::close_idle() {
  destroy();
}

void UpstreamConnection::release_head_block() {
  if (head_) {
    loop_.head_blocks().release(head_);
    head_ = nullptr;
  }
}

void UpstreamConnection::destroy() {
  if (state_ == State::kClosed && dead_) return;
  state_ = State::kClosed;
  if (event_added_) {
    event_del(&ev_);
    event_added_ = false;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  release_head_block();
  if (busy_ > 0)
    dead_ = true;
  else
    delete this;
}

}  // namespace proxy
