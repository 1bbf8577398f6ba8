// SPDX-License-Identifier: MIT
// How an Http2Connection ends: graceful drain (shutdown notice, final GOAWAY), GOAWAY for a fault
// or a timeout followed by a lingering close, the timers that watch idle and stalled clients.
#include <algorithm>
#include <chrono>

#include "proxy/base/log.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/event_loop.h"

namespace proxy {
namespace {

// Between the shutdown notice and the final GOAWAY (RFC 9113 6.8: at least one round trip).
constexpr int64_t kDrainGraceUs = 1000 * 1000;
// How long a GOAWAY may take to leave before the connection is simply closed.
constexpr int64_t kCloseGraceUs = 2000 * 1000;
// How late a timeout may fire.
constexpr int64_t kTimerSlackUs = 50 * 1000;

int64_t micros(conf::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

void Http2Connection::check_done() {
  if (closed_ || lingering_) return;
  const bool flushed = evbuffer_get_length(out_.get()) == 0;
  if (terminating_) {
    if (flushed && (failed_ || !nghttp2_session_want_write(session_.get()))) begin_linger();
    return;
  }
  // Draining and nothing left in flight: the final GOAWAY need not wait for the grace period.
  if (draining_ && !final_goaway_ && stream_count_ == 0 && !first_stream_pending()) {
    final_goaway();
    return;
  }
  // Both sides said GOAWAY (or we did, finally) and no stream is left.
  if (flushed && !nghttp2_session_want_read(session_.get()) &&
      !nghttp2_session_want_write(session_.get()))
    close();
}

void Http2Connection::goaway(uint32_t code, const char* why) {
  if (terminating_ || closed_) return;
  terminating_ = true;
  terminating_since_us_ = now_us();
  LOG_DEBUG("client %s: HTTP/2 GOAWAY (%s)", client_ip_, why);
  if (!failed_) nghttp2_session_terminate_session(session_.get(), code);
}

// After a GOAWAY for a fault: stop sending, and read what the client still sends for a moment so
// that our close does not reset the connection before it has read the GOAWAY.
void Http2Connection::begin_linger() {
  lingering_ = true;
  for (Http2Stream* s : turns_) s->dirty = false;
  turns_.clear();
  while (streams_) free_stream(streams_);
  closing_.clear();
  transport_.shutdown_write();
  arm(Timer::kLinger, loop_.timeouts().linger);
  again_ = true;
}

void Http2Connection::drain() {
  if (draining_ || closed_) return;
  draining_ = true;
  drain_since_us_ = now_us();
  // A fresh connection (the client has not opened its first stream yet) gets that stream served
  // first, as an HTTP/1.1 connection gets its first request: tick() sends the GOAWAY once it came.
  if (first_stream_pending()) {
    awaiting_first_ = true;
    drive();
    return;
  }
  if (stream_count_ == 0)
    final_goaway();
  else if (!failed_ && !terminating_)
    nghttp2_submit_shutdown_notice(session_.get());
  drive();  // may free this connection: the loop's drain walk took the next one already
}

// The GOAWAY that names the last stream we will serve; streams above it are refused.
void Http2Connection::final_goaway() {
  if (final_goaway_ || failed_ || terminating_) return;
  final_goaway_ = true;
  nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_.get()), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  again_ = true;
}

bool Http2Connection::first_stream_pending() const {
  return !failed_ && !terminating_ && session_ &&
         nghttp2_session_get_last_proc_stream_id(session_.get()) == 0;
}

void Http2Connection::on_timeout(Timer fired) {
  switch (fired) {
    case Timer::kIdle:
      if (stream_count_ == 0) goaway(NGHTTP2_NO_ERROR, "client_idle");
      return;
    case Timer::kLinger:
      close();
      return;
    case Timer::kTick:
      tick();
      return;
    case Timer::kNone:
      return;
  }
}

// Every deadline is checked here, at a tick; the next tick comes at the earliest deadline that
// falls before the regular one, so each fires on time without a timer of its own.
void Http2Connection::tick() {
  const int64_t now = now_us();
  const auto& t = loop_.runtime().config->timeouts;
  int64_t next = INT64_MAX;
  auto due = [&next](int64_t at) { next = at < next ? at : next; };
  if (awaiting_first_) {
    if (first_stream_pending()) {
      const int64_t at = drain_since_us_ + micros(t.client_header);
      if (now >= at) {
        close();  // no request came within client_header
        return;
      }
      next_due_us_ = at;
      last_tick_us_ = now;
      return;
    }
    // The first stream came: the drain runs its course from now on (GOAWAY after the grace).
    awaiting_first_ = false;
    drain_since_us_ = now;
  }
  if (terminating_ || (draining_ && stream_count_ == 0)) {
    const int64_t at = std::max(terminating_since_us_, drain_since_us_) + kCloseGraceUs;
    if (now >= at) {
      close();
      return;
    }
    due(at);
  }
  if (draining_ && !final_goaway_) {
    if (now >= drain_since_us_ + kDrainGraceUs)
      final_goaway();
    else
      due(drain_since_us_ + kDrainGraceUs);
  }
  bool pending = evbuffer_get_length(out_.get()) > 0 && !writable_;
  for (Http2Stream* s = streams_; s; s = s->next) {
    if (s->output_pending()) pending = true;
    if (!s->awaiting_client()) continue;
    if (now < s->deadline_us) {
      due(s->deadline_us);
      continue;
    }
    if (!s->head_done()) {
      // A header block left unfinished holds the whole connection (no other frame may come).
      LOG_INFO("client %s: HTTP/2 header block not finished within client_header", client_ip_);
      goaway(NGHTTP2_NO_ERROR, "client_header");
      return;
    }
    s->refuse(408, "client_body timeout");
  }
  if (!pending) {
    stalled_since_us_ = 0;
  } else {
    // Output waits, and waited not at the last tick: if DATA went out since, the client stopped
    // taking bytes after the last of it; if none did, some time since the last tick (counted
    // from now, never early).
    if (stalled_since_us_ == 0)
      stalled_since_us_ = data_sent_us_ > last_tick_us_ ? data_sent_us_ : now;
    const int64_t at = stalled_since_us_ + micros(t.client_send);
    if (now >= at) {
      // A zero window, or a socket the client does not read: its responses hold memory and
      // backends for nothing.
      LOG_INFO("client %s took no response byte for %.1fs, closing", client_ip_,
               static_cast<double>(now - stalled_since_us_) / 1e6);
      goaway(NGHTTP2_ENHANCE_YOUR_CALM, "client_send");
      flush();
      close();
      return;
    }
    due(at);
  }
  next_due_us_ = next;
  last_tick_us_ = now;
}

void Http2Connection::update_timer() {
  if (lingering_ || closed_) return;
  const Timer want =
      stream_count_ == 0 && !draining_ && !terminating_ ? Timer::kIdle : Timer::kTick;
  if (want == timer_mode_) return;
  if (want == Timer::kIdle) {
    // Idle connections keep no more than one recycled stream.
    while (spare_.size() > 1) {
      delete spare_.back();
      spare_.pop_back();
    }
    arm(Timer::kIdle, loop_.timeouts().client_idle);
    return;
  }
  // The regular tick is a common timeout (no heap work); only a deadline that comes sooner, of a
  // client that is late already, takes a timer of its own. The regular tick is never longer
  // than a timeout, so a deadline set after this tick still comes after the next one.
  const int64_t now = now_us();
  const int64_t next = next_due_us_;
  next_due_us_ = INT64_MAX;
  if (next - now < tick_us_ - kTimerSlackUs) {
    const timeval left = EventLoop::time_left(next, now);
    arm(Timer::kTick, &left);
  } else {
    arm(Timer::kTick, tick_tv_);
  }
}

void Http2Connection::arm(Timer mode, const timeval* tv) {
  timer_mode_ = mode;
  event_add(&timer_, tv);
}

void Http2Connection::close() {
  if (closed_) return;
  closed_ = true;
  turns_.clear();
  while (streams_) free_stream(streams_);
  closing_.clear();
  session_.reset();
  event_del(&ev_);
  event_del(&timer_);
  transport_.close();
  // An over-limit connection was never counted under the limits: its over-limit place goes back.
  if (over_limit_)
    loop_.release_over_limit();
  else
    loop_.release_connection(peer());
}

}  // namespace proxy
