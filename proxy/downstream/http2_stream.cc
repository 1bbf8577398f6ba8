// SPDX-License-Identifier: MIT
// One HTTP/2 request stream: the request into the exchange, the pipeline's turns, the response
// body out to the session.
#include "proxy/downstream/http2_stream.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "proxy/background_fetch.h"
#include "proxy/base/log.h"
#include "proxy/body_producer.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/downstream/http2_tunnel.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/io/transport.h"
#include "proxy/pipeline.h"
#include "proxy/upstream/upstream_connection.h"
#include "proxy/websocket.h"

namespace proxy {
namespace {

// A client may have 128 requests open at once: each keeps less of its body in memory than an
// HTTP/1.1 request may, and spills to the temporary file sooner.
constexpr uint64_t kStreamBodyMemory = 64 * 1024;

int64_t micros(conf::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

const sockaddr* Http2Stream::peer() const {
  return conn_.peer();
}
const ListenerRef& Http2Stream::listener() const {
  return conn_.listener();
}
bool Http2Stream::tls() const {
  return conn_.tls();
}

void Http2Stream::open(int32_t stream_id, int64_t now) {
  EventLoop& loop = conn_.loop();
  id = stream_id;
  closed = dirty = counted_reset = false;
  error_status_ = 0;
  error_why_ = "";
  head_done_ = started_ = waiting_body_ = headers_sent_ = deferred_ = eof_sent_ = false;
  end_seen_ = false;
  stream_body_ = body_new_ = false;
  websocket_ = client_ended_ = false;
  held_ = 0;
  ex = loop.acquire_exchange();
  ex->downstream = this;
  ex->runtime = loop.runtime_ptr();
  ex->id = loop.shared().next_id.fetch_add(1, std::memory_order_relaxed);
  ex->started = base::now();
  const std::string_view ip = conn_.client_ip();
  memcpy(ex->client_ip, ip.data(), ip.size());
  ex->client_ip[ip.size()] = '\0';
  ex->client_ip_len = static_cast<uint8_t>(ip.size());
  const auto& cfg = *ex->runtime->config;
  ex->body_limit = cfg.limits.max_request_body;  // until read_body() knows the rule's
  ex->request_body.configure(std::min(cfg.buffering.request_memory, kStreamBodyMemory),
                             cfg.limits.max_request_body, cfg.buffering.temp_path.c_str());
  block = loop.head_blocks().acquire();
  deadline_us = now + micros(cfg.timeouts.client_header);
}

void Http2Stream::head_complete(bool end_stream, int status, const char* why, int64_t now) {
  const auto& cfg = *ex->runtime->config;
  deadline_us = now + micros(cfg.timeouts.client_body);
  if (end_stream) ex->request_complete = end_seen_ = true;
  if (status == 0 && conn_.over_limit()) {
    // Over a connection limit: this stream gets its 503 (the connection drains once it is done).
    status = 503;
    why = conn_.over_limit();
  }
  if (status != 0) {
    refuse(status, why);
    return;
  }
  head_done_ = true;
  const auto& req = ex->request;
  if (req.upgrade_websocket) {
    // The DATA frames are the tunnel's bytes, not a body: the pipeline goes on to the backend at
    // once, and what comes before the 101 waits in memory (within the stream's window).
    websocket_ = true;
    ex->request_complete = true;
    ex->request_body.configure(kStreamingBodyMemory, 0, cfg.buffering.temp_path.c_str());
    if (!make_websocket_key(ex->websocket_key)) refuse(500, "no random bytes for a WebSocket key");
  }
  // A Content-Length over the limit is refused by read_body(), once the rule (an upload may
  // allow more) is known; until then the stream's window bounds what is held.
  conn_.wake(this);
}

bool Http2Stream::body_data(const uint8_t* data, size_t len, int64_t now) {
  if (websocket_) {
    // Tunnel bytes: held until the backend takes them. Once a non-101 answer is given, dropped.
    if (!ex || error_status_ != 0 || (ex->response_ready && !tunnel_)) return false;
    if (!ex->request_body.append(reinterpret_cast<const char*>(data), len)) return false;
    held_ += len;
    if (tunnel_) conn_.wake(this);
    return true;
  }
  // After an answer (an error, or a local response that did not wait) the body is dropped.
  if (!ex || !head_done_ || error_status_ != 0 || ex->response_ready) return false;
  deadline_us = now + micros(ex->runtime->config->timeouts.client_body);
  if (ex->request_body_size + len > ex->body_limit) {
    refuse(413, ex->over_limit_text());
    return false;
  }
  if (auto ok = ex->take_body(reinterpret_cast<const char*>(data), len); !ok) {
    refuse(500, ok.error().detail);
    return false;
  }
  ex->request_body_size += len;
  // RFC 9113 8.1.1: the body is whole with the last byte content-length announced (nghttp2
  // resets the stream if more DATA comes). The backend gets its end now, as from an HTTP/1.1
  // client: END_STREAM may come in a frame of its own, later (curl -T - sends it so), and the
  // response must not wait for it, nor be taken for an early one (no reset after it).
  if (ex->request.framing == http::Framing::kLength &&
      ex->request_body_size == ex->request.content_length)
    body_whole();
  // A buffered body gives its window back at once, as nghttp2's automatic updates did. Before
  // the pipeline ran, the rule that decides is not known yet: read_body() settles it.
  if (started_ && !stream_body_) return false;
  held_ += len;
  if (stream_body_ && !body_new_) {
    body_new_ = true;
    conn_.wake(this);
  }
  return true;
}

void Http2Stream::body_complete() {
  if (websocket_) {
    client_ended_ = true;
    if (tunnel_) conn_.wake(this);
    return;
  }
  end_seen_ = true;
  if (!ex || ex->request_complete) return;
  const auto& req = ex->request;
  // nghttp2 checks this too; the body forwarded must be the one announced (RFC 9113 8.1.1).
  if (head_done_ && req.framing == http::Framing::kLength &&
      ex->request_body_size != req.content_length) {
    refuse(400, "body length differs from content-length");
    return;
  }
  body_whole();
}

void Http2Stream::body_whole() {
  ex->request_complete = true;
  if (stream_body_) body_new_ = true;
  if (waiting_body_ || stream_body_) conn_.wake(this);
}

void Http2Stream::refuse(int status, const char* why) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_why_ = why;
  }
  conn_.wake(this);
}

void Http2Stream::read_body() {
  if (error_status_ == 0) settle_body();  // a refusal is answered below, as one made earlier
  if (ex->streaming && !ex->upload.active() && error_status_ == 0) {
    // buffering: off: memory only; the stream window (given back as the backend takes bytes)
    // bounds what is held, and the pipeline goes on to the backend at once.
    stream_body_ = true;
    ex->body_streaming = true;
    ex->request_body.configure(kStreamingBodyMemory, 0,
                               ex->runtime->config->buffering.temp_path.c_str());
    return;
  }
  waiting_body_ = true;
  release_window();
  if (ex->request_complete || error_status_ != 0) conn_.wake(this);
}

bool Http2Stream::settle_body() {
  if (auto ok = ex->prepare_body(); !ok) {
    refuse(500, ok.error().detail);
    return false;
  }
  const auto& req = ex->request;
  if ((req.framing == http::Framing::kLength && req.content_length > ex->body_limit) ||
      ex->request_body_size > ex->body_limit) {
    refuse(413, ex->over_limit_text());
    return false;
  }
  if (!ex->upload.active()) return true;
  // What came before the rule was known moves from memory (or its spill file) into the upload.
  base::EvbufferPtr scratch(evbuffer_new());
  while (!ex->request_body.empty()) {
    if (!scratch || ex->request_body.move_to(scratch.get(), 256 * 1024) <= 0) {
      refuse(500, "cannot move the body into the upload file");
      return false;
    }
    const size_t n = evbuffer_get_length(scratch.get());
    auto ok =
        ex->upload.write(reinterpret_cast<const char*>(evbuffer_pullup(scratch.get(), -1)), n);
    evbuffer_drain(scratch.get(), n);
    if (!ok) {
      refuse(500, ok.error().detail);
      return false;
    }
  }
  return true;
}

void Http2Stream::body_taken() {
  if (closed || !ex || !stream_body_) return;
  release_window();
}

void Http2Stream::release_window() {
  const uint64_t keep = stream_body_ ? ex->request_body.size() : 0;
  if (held_ <= keep) return;
  nghttp2_session_consume_stream(conn_.session(), id, static_cast<size_t>(held_ - keep));
  held_ = keep;
  // The client could not send while we held its window: its client_body wait starts now.
  deadline_us = conn_.now_us() + micros(ex->runtime->config->timeouts.client_body);
  conn_.wake(this);  // the WINDOW_UPDATE leaves with the connection's next flush
}

// The pipeline calls this when the response is decided (deliver) and when body bytes arrive. The
// HEADERS are submitted at once, while the backend's head (which the fields point into) is still
// there; nghttp2 copies them. With a backend attached, it calls again once it has added the body
// bytes that came with the head, so head and body leave in one write.
void Http2Stream::output_ready() {
  if (closed || !ex) return;
  if (ex->response_ready && !headers_sent_) {
    submit_response();
    if (ex->upstream) return;
  }
  conn_.wake(this);
}

void Http2Stream::take_turn() {
  if (closed || !ex) return;
  if (error_status_ != 0 && !started_) {
    give_error();
    return;
  }
  if (error_status_ != 0 && waiting_body_) {
    give_error();
    return;
  }
  if (head_done_ && !started_) {
    started_ = true;
    if (ex->request.expect_continue && !ex->request_complete) submit_continue();
    pipeline::start(*ex);
    return;
  }
  if (eof_sent_ && error_status_ != 0) {
    // The response went out whole and the client's END_STREAM did not come (client_body): the
    // stream is not held open for it (RFC 9113 8.1: RST_STREAM(NO_ERROR) after a complete
    // response).
    EX_LOG_INFO(*ex, "HTTP/2 stream %d: no END_STREAM within client_body after the response", id);
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
    return;
  }
  if (stream_body_ && error_status_ != 0) {
    stream_body_ = false;
    if (!ex->response_ready) {
      give_error();
      return;
    }
    // A streamed body went wrong after the response began: too late to answer, so cut.
    EX_LOG_INFO(*ex, "HTTP/2 stream %d: %s after the response began", id, error_why_);
    ex->aborted = true;
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    return;
  }
  if (waiting_body_ && ex->request_complete) {
    waiting_body_ = false;
    pipeline::resume(*ex);
    return;
  }
  if (tunnel_) tunnel_->pump(false);
  if (body_new_) {
    body_new_ = false;
    if (ex->upstream) ex->upstream->body_ready();
    if (closed || !ex) return;
  }
  if (ex->response_ready && !headers_sent_) submit_response();
  if (deferred_ && headers_sent_ && (!ex->out.empty() || ex->upstream_done)) {
    deferred_ = false;
    nghttp2_session_resume_data(conn_.session(), id);
  }
}

// An answer decided inside a session callback (a limit, a malformed head) or by a timeout, given
// now: before the pipeline ran, or while it waits for the body. Later (a response is under way)
// the request's remaining body is simply dropped.
void Http2Stream::give_error() {
  const int status = error_status_;
  started_ = true;
  waiting_body_ = false;
  if (ex->response_ready) return;
  EX_LOG_INFO(*ex, "HTTP/2 stream %d: %d %s", id, status, error_why_);
  pipeline::respond(*ex, status, error_why_);
}

ssize_t Http2Stream::read_data(size_t length, uint32_t* flags) {
  Exchange& e = *ex;
  const uint64_t avail = e.out.size();
  if (avail == 0) {
    if (e.aborted) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM: a cut, not an end
    if (e.upstream_done) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = avail < length ? static_cast<size_t>(avail) : length;
  // Frame head and payload make exactly one full TLS record (file bytes are read in behind their
  // frame head, one piece): a 16384-byte payload would add a 9-byte record to every frame.
  if (n > io::Transport::kRecordSize - 9) n = io::Transport::kRecordSize - 9;
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == avail && e.upstream_done && !e.aborted) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

int Http2Stream::send_data(evbuffer* out, const uint8_t* frame_head, size_t length) {
  const std::string_view head(reinterpret_cast<const char*>(frame_head), 9);
  if (length == 0) {
    if (evbuffer_add(out, head.data(), head.size()) != 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
  } else if (ex->out.move_to(out, length, head) != static_cast<ssize_t>(length)) {
    // The frame head is out already: the connection cannot go on.
    EX_LOG_ERROR(*ex, "HTTP/2 stream %d: cannot read the buffered response: %s", id,
                 strerror(errno));
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  ex->bytes_out += 9 + length;
  ex->data_bytes += length;
  conn_.data_sent(9 + length);
  // The producer may add more now (backpressure: it fills ex->out up to its room).
  if (ex->producer) ex->producer->output_drained();
  if (tunnel_) tunnel_->output_drained();
  return 0;
}

void Http2Stream::response_sent() {
  eof_sent_ = true;
  // A whole request whose END_STREAM is still on its way: within client_body, as a body would.
  if (ex && ex->request_complete && !end_seen_ && !websocket_)
    deadline_us = conn_.now_us() + micros(ex->runtime->config->timeouts.client_body);
  // RFC 9113 8.1: a complete response before the request finished; the rest is not wanted.
  if (ex && (!ex->request_complete || (websocket_ && !tunnel_ && !client_ended_)))
    nghttp2_submit_rst_stream(conn_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
}

void Http2Stream::finish(EventLoop& loop) {
  delete tunnel_;  // closes the backend side of a WebSocket
  tunnel_ = nullptr;
  if (ex && started_ && BackgroundFetch::adopt(*ex)) ex = nullptr;  // a cache fill others read
  if (ex) {
    ex->drop_producer();
    if (!eof_sent_) ex->aborted = true;
    // A stream cancelled before its request ran cost nothing and is not a request to log.
    if (started_) pipeline::finish(*ex);
    loop.release_exchange(ex);
    ex = nullptr;
  }
  if (block) {
    loop.head_blocks().release(block);
    block = nullptr;
  }
}

bool Http2Stream::awaiting_client() const {
  if (closed || !ex || error_status_ != 0) return false;
  // The response went out whole: only the END_STREAM of a whole request is waited for.
  if (eof_sent_) return !websocket_ && ex->request_complete && !end_seen_;
  // A streaming body with bytes held waits for the backend, not for the client.
  if (stream_body_ && held_ > 0) return false;
  return !head_done_ || (!ex->request_complete && !ex->response_ready);
}

bool Http2Stream::output_pending() const {
  return headers_sent_ && !eof_sent_ && ex && (!ex->out.empty() || ex->upstream_done);
}

}  // namespace proxy
