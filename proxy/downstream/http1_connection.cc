// SPDX-License-Identifier: MIT
#include "proxy/downstream/http1_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/background_fetch.h"
#include "proxy/base/log.h"
#include "proxy/body_producer.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/io/socket_address.h"
#include "proxy/pipeline.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {
namespace {

// The request line of the head received so far, as the client sent it: after the empty lines a
// client may send first, up to its LF (a CR before the LF left out) or to the end of what came.
std::string_view received_request_line(const char* buf, size_t len) {
  size_t i = 0;
  while (i < len && (buf[i] == '\r' || buf[i] == '\n')) ++i;
  const char* start = buf + i;
  const void* lf = memchr(start, '\n', len - i);
  size_t n = lf ? static_cast<size_t>(static_cast<const char*>(lf) - start) : len - i;
  if (lf && n > 0 && start[n - 1] == '\r') --n;
  return {start, n};
}

}  // namespace

Http1Connection::Http1Connection(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                                 socklen_t peer_len, const ListenerRef& listener)
    : loop_(loop), listener_(listener), transport_(std::move(transport)) {
  if (transport_.tls())
    state_ = State::kHandshake;
  else
    h2c_possible_ = true;
  if (peer_len > 0 && static_cast<size_t>(peer_len) <= sizeof peer_)
    memcpy(&peer_, peer, peer_len);
  else
    peer_.sin6_family = AF_UNIX;
  loop_.add_connection(this);
}

Http1Connection::~Http1Connection() {
  loop_.remove_connection(this);
}

size_t Http1Connection::format_client_ip(char* buf, size_t cap) const {
  return io::format_ip(peer(), buf, cap);
}

void Http1Connection::start() {
  event_assign(&ev_, loop_.base(), transport_.fd(),
               EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST, on_event, this);
  // Over TLS the handshake and the first head share one client_header deadline. (The persistent
  // event's timer restarts at every event, so a trickling client is caught by the deadline.)
  head_deadline_ = transport_.tls() || over_limit_ ? head_deadline_from_now() : 0;
  event_add(&ev_, over_limit_ ? loop_.timeouts().over_limit : loop_.timeouts().client_header);
  drive();
}

base::TimePoint Http1Connection::now() const {
  return base::now();
}

namespace {
int64_t micros(conf::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
// How late a timeout may fire.
constexpr int64_t kTimerSlackUs = 50 * 1000;
}  // namespace

bool Http1Connection::past_head_deadline() const {
  return loop_.now_us() >= head_deadline_;
}

int64_t Http1Connection::head_deadline_from_now() const {
  // An over-limit connection only gets its 503 (common timeouts keep whole seconds in tv_sec).
  if (over_limit_) return loop_.now_us() + loop_.timeouts().over_limit->tv_sec * 1000000;
  return loop_.now_us() + micros(loop_.runtime().config->timeouts.client_header);
}

void Http1Connection::wake_at(int64_t deadline, conf::Duration armed) {
  // The timer fires |armed| after the last event at the latest, and early is harmless (the
  // timeout handler looks at the deadline and comes back here). So only a deadline well before
  // that needs its own timer: not a common timeout, a heap insertion, paid by clients that are
  // late already (a head in pieces, a socket that stopped taking bytes), never on a request's
  // ordinary way.
  const int64_t now = loop_.now_us();
  if (deadline - now >= micros(armed) - kTimerSlackUs) return;
  const timeval left = EventLoop::time_left(deadline, now);
  event_add(&ev_, &left);
}

void Http1Connection::on_event(evutil_socket_t, short what, void* arg) {
  static_cast<Http1Connection*>(arg)->handle(what);
}

void Http1Connection::set_timeout(const timeval* tv) {
  event_add(&ev_, tv);
}

void Http1Connection::handle(short what) {
  if (what & EV_READ) {
    readable_ = true;
    if (write_waits_read_) {
      writable_ = true;
      write_waits_read_ = false;
    }
  }
  // The peer's FIN may come with the last bytes in one edge: once it is known, reads go on until
  // they see the end, whatever their size.
  if (what & EV_CLOSED) readable_ = peer_closed_ = true;
  if (what & EV_WRITE) {
    writable_ = true;
    blocked_since_ = 0;
    if (read_waits_write_) {
      readable_ = true;
      read_waits_write_ = false;
    }
  }
  if (what & EV_TIMEOUT) timed_out_ = true;
  drive();
}

// Runs inside drive(), so whatever it triggers (an error response written at once, a close) frees
// the connection only when drive() is done with it.
void Http1Connection::on_timeout() {
  const int64_t now = loop_.now_us();
  const auto& t = loop_.runtime().config->timeouts;
  switch (state_) {
    case State::kHandshake:  // no session yet to carry an HTTP answer
      if (head_deadline_ != 0 && now < head_deadline_) {
        wake_at(head_deadline_, t.client_header);
        return;
      }
      close();
      return;
    case State::kHead:
      if (in_len_ == 0) {  // idle keep-alive or a silent new connection: just close
        close_gracefully();
        return;
      }
      // The persistent event's timer restarts at every event; the deadline does not move.
      if (head_deadline_ != 0 && now < head_deadline_) {
        wake_at(head_deadline_, t.client_header);
        return;
      }
      reject(408, "client_header timeout");
      break;
    case State::kBody:
      reject(408, "client_body timeout");
      break;
    case State::kBusy:
      // A streamed body the client stopped sending (a full window is the backend's doing).
      if (streaming_body_ && ex_ && ex_->request_body.size() < kStreamingBodyMemory) {
        reject(408, "client_body timeout");
        break;
      }
      if (blocked_since_ == 0) break;
      if (now - blocked_since_ < micros(t.client_send)) {
        // Armed before the client stopped taking bytes: wait for the rest.
        wake_at(blocked_since_ + micros(t.client_send), t.client_send);
        break;
      }
      if (ex_) {
        EX_LOG_INFO(*ex_, "the client took no byte for %.1fs, closing",
                    static_cast<double>(now - blocked_since_) / 1e6);
        ex_->aborted = true;
      }
      close();
      break;
    case State::kLinger:
      close();
      break;
  }
}

// The one place that advances the connection. Re-entrant calls (a stage or the upstream calling
// back while we are inside) only ask for another turn, so the object is freed in one place.
void Http1Connection::drive() {
  if (driving_) {
    again_ = true;
    return;
  }
  driving_ = true;
  do {
    again_ = false;
    if (closed_) break;
    if (timed_out_) {
      timed_out_ = false;
      on_timeout();
      if (closed_) break;
    }
    switch (state_) {
      case State::kHandshake:
        step_handshake();
        break;
      case State::kHead:
        step_head();
        break;
      case State::kBody:
        step_body();
        break;
      case State::kBusy:
        if (streaming_body_) step_body_stream();
        if (!closed_) step_write();
        break;
      case State::kLinger:
        step_linger();
        break;
    }
  } while (again_ && !closed_);
  driving_ = false;
  if (closed_) delete this;
}

void Http1Connection::step_head() {
  if (draining_ && in_len_ == 0 && !first_request_) {
    close();
    return;
  }
  const size_t cap = loop_.head_blocks().block_size();
  for (;;) {
    if (in_len_ > 0 && (!h2c_possible_ || check_h2c_preface()) && parse_head()) return;
    if (state_ != State::kHead || closed_) return;
    if (!readable_) {
      keep_head_deadline();
      return;
    }
    if (!in_) in_ = loop_.head_blocks().acquire();
    if (in_len_ == cap) {  // cannot happen: check_partial_request refuses before
      reject(431, "request head too large");
      return;
    }
    const size_t want = cap - in_len_;
    ssize_t n = transport_.read(in_ + in_len_, want);
    if (n > 0) {
      // A short read drained the socket: more bytes will come with a new edge event. (Over TLS
      // a short read may also end at a record the socket delivered only in part.)
      if (static_cast<size_t>(n) < want && transport_.drained() && !peer_closed_) readable_ = false;
      if (in_len_ == 0 && !(first_request_ && (transport_.tls() || over_limit_))) {
        // First byte of a request: from now on the whole head must arrive within client_header.
        head_deadline_ = head_deadline_from_now();
        if (!first_request_) set_timeout(loop_.timeouts().client_header);
      } else if (past_head_deadline()) {
        reject(408, "client_header timeout");
        return;
      }
      in_len_ += static_cast<uint32_t>(n);
      continue;
    }
    if (n == 0) {  // the client closed: nothing to answer
      close();
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_read();
      if (in_len_ == 0 && in_) {
        loop_.head_blocks().release(in_);
        in_ = nullptr;
      }
      keep_head_deadline();
      return;
    }
    if (errno == EINTR) continue;
    close();
    return;
  }
}

void Http1Connection::keep_head_deadline() {
  // A head in pieces (over TLS, the first one from the handshake on): the event that brought a
  // piece restarted the timer, the deadline stays where it was.
  if (head_deadline_ != 0 && (in_len_ > 0 || (first_request_ && transport_.tls())))
    wake_at(head_deadline_, loop_.runtime().config->timeouts.client_header);
}

void Http1Connection::begin_exchange() {
  ex_ = loop_.acquire_exchange();
  ex_->downstream = this;
  ex_->runtime = loop_.runtime_ptr();
  ex_->id = loop_.shared().next_id.fetch_add(1, std::memory_order_relaxed);
  ex_->started = now();
  ex_->client_ip_len =
      static_cast<uint8_t>(format_client_ip(ex_->client_ip, sizeof ex_->client_ip));
}

// Returns true when it made progress that changes state (a request started or was refused).
bool Http1Connection::parse_head() {
  std::string_view buf(in_, in_len_);
  size_t end = http::find_head_end(buf, in_scanned_);
  const auto& limits = loop_.runtime().config->limits;
  http::ParseLimits pl{limits.max_request_header, limits.max_request_line};
  if (end == 0) {
    in_scanned_ = in_len_;
    if (auto ok = http::check_partial_request(buf, pl); !ok) {
      reject(ok.error().status, ok.error().reason);
      return true;
    }
    return false;
  }
  begin_exchange();
  head_len_ = static_cast<uint32_t>(end);
  body_pos_ = head_len_;
  if (auto ok = http::parse_request_head(in_, end, pl, ex_->request); !ok) {
    if (first_request_ && !http::names_http_version(std::string_view(in_, end))) {
      // Not HTTP/1 at all: nobody would read a 400 (the parser leaves the bytes as received).
      EX_LOG_INFO(*ex_, "not an HTTP request (%s); closing", ok.error().reason);
      ex_->raw_request_line = received_request_line(in_, in_len_);
      ex_->status = 400;
      ex_->error_detail = "not HTTP";
      close();
      return true;
    }
    reject(ok.error().status, ok.error().reason);
    return true;
  }
  if (over_limit_) {
    reject(503, over_limit_);
    return true;
  }
  first_request_ = false;
  const auto& req = ex_->request;
  if (!req.keep_alive || draining_) ex_->close_after = true;
  state_ = State::kBusy;
  if (req.framing == http::Framing::kNone ||
      (req.framing == http::Framing::kLength && req.content_length == 0))
    ex_->request_complete = true;
  set_timeout(loop_.timeouts().client_send);
  pipeline::start(*ex_);
  again_ = true;
  return true;
}

void Http1Connection::reject(int status, const char* why) {
  if (!ex_) begin_exchange();
  // The head was refused (or never completed): what the client sent is all there is to log.
  if (state_ == State::kHead && in_) ex_->raw_request_line = received_request_line(in_, in_len_);
  if (streaming_body_ && ex_->status != 0) {
    // A streamed body went wrong after the response began: too late to answer, so cut.
    EX_LOG_INFO(*ex_, "%s after the response began; closing", why);
    ex_->aborted = true;
    close();
    return;
  }
  streaming_body_ = false;
  // Over-limit connections were logged at accept, rate-limited: not one line each here.
  if (!over_limit_) EX_LOG_INFO(*ex_, "%d %s", status, why);
  // Whatever follows a malformed request cannot be trusted: answer, then close.
  ex_->close_after = true;
  state_ = State::kBusy;
  set_timeout(loop_.timeouts().client_send);
  pipeline::respond(*ex_, status, why);
  again_ = true;
}

void Http1Connection::output_ready() {
  drive();
}

void Http1Connection::step_write() {
  if (!ex_) return;
  while (!ex_->out.empty() && writable_) {
    // A head whose Content-Length body is still on its way from the backend waits in the kernel
    // for the body's write: one segment where there would be two (200 ms at most, should the
    // backend dawdle). A body is never held: a trickle must reach the client as it comes.
    transport_.set_more(ex_->bytes_out == 0 && !ex_->upstream_done && !ex_->local_response &&
                        ex_->response.framing == http::Framing::kLength);
    ssize_t n = ex_->out.write_to(transport_);
    if (n > 0) {
      ex_->bytes_out += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_write();
      if (blocked_since_ == 0) blocked_since_ = loop_.now_us();
      break;
    }
    if (n < 0 && errno == EINTR) continue;
    // The client is gone (or the spill file failed): nothing more can reach it.
    // EIO: a file range (a served file, a disk cache object) ended before its announced length.
    if (n < 0 && errno == EIO)
      EX_LOG_WARN(*ex_, "a file of the response is shorter than announced (it changed): cut");
    ex_->aborted = true;
    close();
    return;
  }
  transport_.set_more(false);
  // The producer may add more now (backpressure: it fills ex_->out up to its room).
  if (ex_->producer) ex_->producer->output_drained();
  if (ex_ && ex_->out.empty() && ex_->upstream_done) finish_exchange();
}

void Http1Connection::finish_exchange() {
  pipeline::finish(*ex_);
  bool close_now = ex_->close_after || ex_->aborted || draining_;
  // An error, or an early answer while the client still sends its body (buffering: off).
  bool linger =
      ex_->close_after && ((ex_->local_response && ex_->status >= 400) || !ex_->request_complete);
  streaming_body_ = false;
  if (close_now) {
    if (linger && !ex_->aborted) {
      // Let the client read the error before the close resets the connection (nginx's
      // lingering close): stop sending, then drain what it still sends for a moment.
      transport_.shutdown_write();
      loop_.release_exchange(ex_);
      ex_ = nullptr;
      state_ = State::kLinger;
      set_timeout(loop_.timeouts().linger);
      again_ = true;
      return;
    }
    const bool cut = ex_->aborted;
    loop_.release_exchange(ex_);
    ex_ = nullptr;
    if (cut)
      close();
    else
      close_gracefully();
    return;
  }
  // Keep-alive: what follows the request in in_ is the next request.
  size_t consumed = body_pos_;
  loop_.release_exchange(ex_);
  ex_ = nullptr;
  size_t keep = in_len_ > consumed ? in_len_ - consumed : 0;
  if (keep > 0) memmove(in_, in_ + consumed, keep);
  in_len_ = static_cast<uint32_t>(keep);
  enter_head_state(keep > 0);
}

void Http1Connection::enter_head_state(bool keep_buffer) {
  state_ = State::kHead;
  in_scanned_ = 0;
  head_len_ = 0;
  body_pos_ = 0;
  body_left_ = 0;
  blocked_since_ = 0;
  if (!keep_buffer && in_) {
    loop_.head_blocks().release(in_);
    in_ = nullptr;
  } else if (keep_buffer) {
    head_deadline_ = head_deadline_from_now();
  }
  set_timeout(keep_buffer ? loop_.timeouts().client_header : loop_.timeouts().client_idle);
  again_ = true;
}

// A connection that has not had its first request yet (mid-handshake, or accepted with nothing
// read) is kept: the client connected before the stop and gets that request answered, within
// client_header, then the close. An idle keep-alive connection is closed now, as nginx does.
void Http1Connection::drain() {
  draining_ = true;
  if (driving_) return;
  if (state_ == State::kHead && in_len_ == 0 && !first_request_) {
    close_gracefully();
    delete this;
  }
}

void Http1Connection::close() {
  if (closed_) return;
  closed_ = true;
  streaming_body_ = false;
  if (ex_ && BackgroundFetch::adopt(*ex_)) ex_ = nullptr;  // a cache fill others may be reading
  if (ex_) {
    ex_->drop_producer();
    if (!ex_->upstream_done || !ex_->out.empty()) ex_->aborted = true;
    pipeline::finish(*ex_);
    loop_.release_exchange(ex_);
    ex_ = nullptr;
  }
  if (in_) {
    loop_.head_blocks().release(in_);
    in_ = nullptr;
  }
  event_del(&ev_);
  transport_.close();
  if (over_limit_)
    loop_.release_over_limit();
  else
    loop_.release_connection(peer());
}

}  // namespace proxy
