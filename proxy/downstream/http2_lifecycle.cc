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
constexpr int64_t kDrainGraceS = 1;
// How long a GOAWAY may take to leave before the connection is simply closed.
constexpr int64_t kCloseGraceS = 2;

int64_t seconds(conf::Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
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
  terminating_since_s_ = now_seconds();
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
  drain_since_s_ = now_seconds();
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

void Http2Connection::tick() {
  const int64_t now_s = now_seconds();
  const auto& t = loop_.runtime().config->timeouts;
  if (awaiting_first_) {
    if (first_stream_pending()) {
      if (now_s - drain_since_s_ < seconds(t.client_header)) return;
      close();  // no request came within client_header
      return;
    }
    // The first stream came: the drain runs its course from now on (GOAWAY after the grace).
    awaiting_first_ = false;
    drain_since_s_ = now_s;
  }
  if ((terminating_ || (draining_ && stream_count_ == 0)) &&
      now_s - std::max(terminating_since_s_, drain_since_s_) >= kCloseGraceS) {
    close();
    return;
  }
  if (draining_ && now_s - drain_since_s_ >= kDrainGraceS) final_goaway();
  bool pending = evbuffer_get_length(out_.get()) > 0 && !writable_;
  for (Http2Stream* s = streams_; s; s = s->next) {
    if (s->output_pending()) pending = true;
    if (!s->awaiting_client() || now_s < s->deadline_s) continue;
    if (!s->head_done()) {
      // A header block left unfinished holds the whole connection (no other frame may come).
      LOG_INFO("client %s: HTTP/2 header block not finished within client_header", client_ip_);
      goaway(NGHTTP2_NO_ERROR, "client_header");
      return;
    }
    s->refuse(408, "client_body timeout");
  }
  if (!pending) {
    stalled_since_s_ = 0;
  } else if (stalled_since_s_ == 0) {
    stalled_since_s_ = now_s;
  } else if (now_s - stalled_since_s_ >= seconds(t.client_send)) {
    // A zero window, or a socket the client does not read: its responses hold memory and
    // backends for nothing.
    LOG_INFO("client %s took no response byte for %llds, closing", client_ip_,
             static_cast<long long>(now_s - stalled_since_s_));
    goaway(NGHTTP2_ENHANCE_YOUR_CALM, "client_send");
    flush();
    close();
  }
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
  loop_.release_connection(peer());
}

}  // namespace proxy
