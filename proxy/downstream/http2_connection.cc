// SPDX-License-Identifier: MIT
// The I/O of an Http2Connection and its streams' turns; its end and timers are in
// http2_lifecycle.cc, the session callbacks in http2_session.cc, the streams in http2_stream.cc.
#include "proxy/downstream/http2_connection.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/event_loop.h"
#include "proxy/io/socket_address.h"

namespace proxy {
namespace {

// Control frames: a client may send this many at once, and this many more per second (plus one
// for each HEADERS or DATA frame we send). Browsers and h2load stay far below.
constexpr uint32_t kControlBurst = 1000;
constexpr uint32_t kControlRate = 100;
// Streams cancelled by the client before their response ended (or refused for a malformed head,
// which counts 10): nghttp2's own limit is 1000 and 33/s; ours trips well before.
constexpr uint32_t kResetBurst = 200;
constexpr uint32_t kResetRate = 20;
// Reads per turn of the event loop, so one busy client does not starve the others.
constexpr int kReadsPerTurn = 16;
constexpr uint64_t kMaxLingerBytes = 1 << 20;
constexpr int64_t kTickMs = 1000;  // at most: see update_timer()
}  // namespace

void start_http2(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                 socklen_t peer_len, const ListenerRef& listener, std::string_view already_read,
                 const char* over_limit) {
  auto* c = new Http2Connection(loop, std::move(transport), peer, peer_len, listener);
  c->set_over_limit(over_limit);
  c->start(already_read);
}

Http2Connection::Http2Connection(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                                 socklen_t peer_len, const ListenerRef& listener)
    : loop_(loop),
      listener_(listener),
      transport_(std::move(transport)),
      out_(evbuffer_new()),
      control_budget_(kControlBurst, kControlRate),
      reset_budget_(kResetBurst, kResetRate) {
  if (peer_len > 0 && static_cast<size_t>(peer_len) <= sizeof peer_)
    memcpy(&peer_, peer, peer_len);
  else
    peer_.sin6_family = AF_UNIX;
  client_ip_len_ = static_cast<uint8_t>(io::format_ip(this->peer(), client_ip_, sizeof client_ip_));
  temp_files_.limit = loop_.runtime().config->buffering.max_temp_file;
  loop_.add_connection(this);
}

Http2Connection::~Http2Connection() {
  for (Http2Stream* s : spare_) delete s;
  loop_.remove_connection(this);
}

void Http2Connection::start(std::string_view already_read) {
  event_base* base = loop_.base();
  event_assign(&ev_, base, transport_.fd(), EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
               on_event, this);
  event_add(&ev_, nullptr);
  evtimer_assign(&timer_, base, on_timer, this);
  {
    const auto& t = loop_.runtime().config->timeouts;
    auto tick = std::min(
        {std::chrono::milliseconds(kTickMs), t.client_header, t.client_body, t.client_send});
    if (tick.count() < 1) tick = std::chrono::milliseconds(1);
    const timeval tv{static_cast<time_t>(tick.count() / 1000),
                     static_cast<suseconds_t>(tick.count() % 1000 * 1000)};
    tick_tv_ = event_base_init_common_timeout(base, &tv);
    tick_us_ = tick.count() * 1000;
  }
  now_ = base::now();
  if (!make_session()) {
    LOG_ERROR("client %s: cannot start an HTTP/2 session (out of memory)", client_ip_);
    close();
    delete this;
    return;
  }
  // The callbacks only record; the streams' turns come in drive().
  driving_ = true;
  if (!already_read.empty()) feed(already_read.data(), already_read.size());
  driving_ = false;
  if (loop_.draining())
    drain();
  else
    drive();
}

int64_t Http2Connection::now_us() const {
  return loop_.now_us();
}

void Http2Connection::on_event(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Http2Connection*>(arg);
  c->deferred_ = false;
  if (what & EV_READ) {
    c->readable_ = true;
    if (c->write_wants_read_) c->writable_ = true;
  }
  if (what & EV_CLOSED) c->readable_ = c->peer_closed_ = true;
  if (what & EV_WRITE) {
    c->writable_ = true;
    if (c->read_wants_write_) c->readable_ = true;
  }
  c->drive();
}

void Http2Connection::on_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Http2Connection*>(arg);
  c->fired_ = c->timer_mode_;
  c->timer_mode_ = Timer::kNone;
  c->drive();
}

// Wakes from outside drive() (a backend delivered bytes) come back once, after the other events
// of this loop turn: the responses of all the streams whose backends answered together then leave
// in one write instead of one write (and one TLS record) each.
void Http2Connection::wake(Http2Stream* s) {
  if (!s->dirty) {
    s->dirty = true;
    turns_.push_back(s);
  }
  if (driving_) {
    again_ = true;
    return;
  }
  if (!deferred_) {
    deferred_ = true;
    event_active(&ev_, EV_TIMEOUT, 0);
  }
}

void Http2Connection::data_sent(size_t) {
  stalled_since_us_ = 0;
  data_sent_us_ = now_us();  // the loop's cached clock: no system call
}

// The one place that advances the connection. Re-entrant calls (a stream or a backend calling
// back while we are inside) only ask for another turn, so the object is freed in one place.
void Http2Connection::drive() {
  if (driving_) {
    again_ = true;
    return;
  }
  driving_ = true;
  int reads = 0;
  do {
    again_ = false;
    if (fired_ != Timer::kNone) {
      const Timer fired = fired_;
      fired_ = Timer::kNone;
      on_timeout(fired);
      if (closed_) break;
    }
    if (readable_ && reads++ < kReadsPerTurn) read_input();
    if (closed_) break;
    run_turns();
    reap();
    flush();
    if (closed_) break;
    reap();
    check_done();
  } while (again_ && !closed_);
  // Still readable after our share of reads: come back after the other events of this turn.
  if (!closed_ && readable_ && reads > kReadsPerTurn) event_active(&ev_, EV_READ, 0);
  if (!closed_) update_timer();
  driving_ = false;
  if (closed_) delete this;
}

void Http2Connection::read_input() {
  const bool discard = lingering_ || terminating_;
  if (!discard && (evbuffer_get_length(out_.get()) >= kOutputHigh || failed_)) return;
  char* buf = loop_.scratch();
  const ssize_t n = transport_.read(buf, EventLoop::kScratchSize);
  if (n > 0) {
    if (static_cast<size_t>(n) < EventLoop::kScratchSize && transport_.drained() && !peer_closed_)
      readable_ = false;
    else
      again_ = true;
    if (discard) {
      // After our GOAWAY the session reads nothing more: drop the bytes, up to a limit.
      linger_bytes_ += static_cast<uint64_t>(n);
      if (linger_bytes_ > kMaxLingerBytes) close();
      return;
    }
    now_ = base::now();
    feed(buf, static_cast<size_t>(n));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    readable_ = false;
    read_wants_write_ = transport_.want() == io::Transport::Want::kWrite;
    return;
  }
  if (n < 0 && errno == EINTR) {
    again_ = true;
    return;
  }
  // The client closed (or broke) the connection: nothing more can reach it.
  if (n < 0 && !discard) LOG_DEBUG("client %s: HTTP/2 read: %s", client_ip_, strerror(errno));
  close();
}

// The session reads the bytes up to each frame head the gate wants checked, so the check sees the
// session's streams as of that frame.
void Http2Connection::feed(const char* data, size_t len) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  while (len > 0 && !failed_ && !terminating_) {
    FrameGate::Frame f;
    bool got = false;
    const size_t n = gate_.scan(p, len, &f, &got);
    // A frame without payload is over with its head (an empty DATA with END_STREAM may close
    // its stream): whether the stream was open is seen before the head's last byte goes in.
    const size_t before = got && f.used_id && f.length == 0 ? n - 1 : n;
    ssize_t rv = nghttp2_session_mem_recv(session_.get(), p, before);
    bool open = false;
    if (rv >= 0 && got && f.used_id)
      open = nghttp2_session_find_stream(session_.get(), f.stream_id) != nullptr;
    if (rv >= 0 && before < n) rv = nghttp2_session_mem_recv(session_.get(), p + before, 1);
    if (rv < 0) {
      fatal(static_cast<int>(rv));
      return;
    }
    p += n;
    len -= n;
    if (got) check_frame(f, open);
  }
}

void Http2Connection::fatal(int rv) {
  if (failed_) return;
  failed_ = true;
  const bool flood = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
  LOG_INFO("client %s: HTTP/2 session error (%s): GOAWAY and closing", client_ip_,
           nghttp2_strerror(rv));
  const uint32_t code = flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR;
  const uint32_t last =
      static_cast<uint32_t>(nghttp2_session_get_last_proc_stream_id(session_.get()));
  // RFC 9113 6.8: length 8, type GOAWAY, no flags, stream 0; last stream id, error code.
  uint8_t frame[17] = {0, 0, 8, NGHTTP2_GOAWAY};
  for (int i = 0; i < 4; ++i) {
    frame[9 + i] = static_cast<uint8_t>(last >> (24 - 8 * i));
    frame[13 + i] = static_cast<uint8_t>(code >> (24 - 8 * i));
  }
  frame[9] &= 0x7f;
  evbuffer_add(out_.get(), frame, sizeof frame);
  if (!terminating_) {
    terminating_ = true;
    terminating_since_us_ = now_us();
  }
}

void Http2Connection::run_turns() {
  if (failed_ || lingering_) return;
  for (size_t i = 0; i < turns_.size(); ++i) {
    Http2Stream* s = turns_[i];
    s->dirty = false;
    s->take_turn();
  }
  turns_.clear();
}

void Http2Connection::reap() {
  for (Http2Stream* s : closing_) {
    if (s->dirty) {
      turns_.erase(std::remove(turns_.begin(), turns_.end(), s), turns_.end());
      s->dirty = false;
    }
    free_stream(s);
  }
  // An over-limit client had its 503: the GOAWAY tells it to go (its place is given back then).
  if (over_limit_ && !closing_.empty()) drain();
  closing_.clear();
}

void Http2Connection::flush() {
  for (;;) {
    if (!failed_ && !lingering_ && evbuffer_get_length(out_.get()) < kOutputHigh) {
      const int rv = nghttp2_session_send(session_.get());
      if (rv != 0) fatal(rv);
    }
    if (evbuffer_get_length(out_.get()) == 0 || !writable_) return;
    const ssize_t n = write_output();
    if (n >= 0) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      writable_ = false;
      write_wants_read_ = transport_.want() == io::Transport::Want::kRead;
      return;
    }
    if (errno == EINTR) continue;
    close();
    return;
  }
}

ssize_t Http2Connection::write_output() {
  constexpr int kMaxIov = 16;
  evbuffer_iovec vec[kMaxIov];
  iovec iov[kMaxIov];
  const int count = evbuffer_peek(out_.get(), -1, nullptr, vec, kMaxIov);
  const int used = count < kMaxIov ? count : kMaxIov;
  for (int i = 0; i < used; ++i) iov[i] = {vec[i].iov_base, vec[i].iov_len};
  const ssize_t n = transport_.writev(iov, used);
  if (n > 0) evbuffer_drain(out_.get(), static_cast<size_t>(n));
  return n;
}

Http2Stream* Http2Connection::new_stream() {
  Http2Stream* s;
  if (spare_.empty()) {
    s = new Http2Stream(*this);
  } else {
    s = spare_.back();
    spare_.pop_back();
  }
  s->prev = nullptr;
  s->next = streams_;
  if (streams_) streams_->prev = s;
  streams_ = s;
  ++stream_count_;
  return s;
}

// Unlinks |s|, ends its exchange (logged, backend abandoned) and keeps the object for reuse.
void Http2Connection::free_stream(Http2Stream* s) {
  if (s->prev)
    s->prev->next = s->next;
  else
    streams_ = s->next;
  if (s->next) s->next->prev = s->prev;
  --stream_count_;
  if (session_ && !s->closed) nghttp2_session_set_stream_user_data(session_.get(), s->id, nullptr);
  s->closed = true;
  s->finish(loop_);
  spare_.push_back(s);
}

}  // namespace proxy
