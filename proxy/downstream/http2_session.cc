// SPDX-License-Identifier: MIT
// The nghttp2 session of an Http2Connection: settings, options, and the callbacks. Callbacks only
// record what the client did (into streams, budgets, the output buffer); the pipeline runs later,
// outside the session (Http2Connection::run_turns).
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"

namespace proxy {
namespace {

constexpr uint32_t kMaxConcurrentStreams = 128;
constexpr uint32_t kStreamWindow = 256 * 1024;
constexpr int32_t kConnectionWindow = 1024 * 1024;
// nghttp2 closes a session that leaves more ACKs than this queued (we stop reading long before).
constexpr size_t kMaxOutboundAck = 256;
// CONTINUATION frames after one HEADERS (CVE-2024-27316 and kin): past it the session fails.
constexpr size_t kMaxContinuations = 8;
// A header block decoding to this many times max_request_header is an HPACK bomb, not a request.
constexpr uint64_t kBombFactor = 16;
// A refused head (malformed, too large) weighs more on the reset budget than a cancel.
constexpr uint32_t kRefusedHeadCost = 10;
constexpr uint32_t kInvalidFrameCost = 10;

Http2Connection& self(void* user) {
  return *static_cast<Http2Connection*>(user);
}

Http2Stream* stream_of(nghttp2_session* session, int32_t id) {
  return static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, id));
}

}  // namespace

bool Http2Connection::make_session() {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return false;
  nghttp2_session_callbacks_set_send_callback(cb, on_send);
  nghttp2_session_callbacks_set_send_data_callback(cb, on_send_data);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_session_callbacks_set_error_callback2(cb, on_error);
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cb);
    return false;
  }
  nghttp2_option_set_no_closed_streams(opt, 1);
  // Window updates are ours: a streaming request body (buffering: off) gives its window back only
  // as the backend takes the bytes, so a fast client waits instead of filling our memory.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAck);
  nghttp2_option_set_max_continuations(opt, kMaxContinuations);
  nghttp2_session* s = nullptr;
  const int rv = nghttp2_session_server_new2(&s, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return false;
  session_.reset(s);

  const auto& limits = loop_.runtime().config->limits;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits.max_request_header)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      // RFC 9218: no priority tree to maintain (nor to be attacked through PRIORITY frames).
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
      // RFC 8441: WebSockets over extended CONNECT (:protocol websocket).
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
  if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof *settings))
    return false;
  return nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, kConnectionWindow) == 0;
}

void Http2Connection::flood(const char* what) {
  if (terminating_) return;
  LOG_INFO("client %s: HTTP/2 %s: GOAWAY and closing", client_ip_, what);
  goaway(NGHTTP2_ENHANCE_YOUR_CALM, what);
}

void Http2Connection::control_frame(uint32_t cost) {
  if (!control_budget_.spend(now_, cost)) flood("control frame flood");
}

void Http2Connection::charge_reset(Http2Stream* s, uint32_t cost) {
  if (s->counted_reset) return;
  s->counted_reset = true;
  if (!reset_budget_.spend(now_, cost)) flood("rapid reset or refused requests");
}

ssize_t Http2Connection::on_send(nghttp2_session*, const uint8_t* data, size_t len, int,
                                 void* user) {
  Http2Connection& c = self(user);
  if (evbuffer_get_length(c.out_.get()) >= kOutputHigh) return NGHTTP2_ERR_WOULDBLOCK;
  if (evbuffer_add(c.out_.get(), data, len) != 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
  return static_cast<ssize_t>(len);
}

int Http2Connection::on_send_data(nghttp2_session*, nghttp2_frame* frame, const uint8_t* head,
                                  size_t length, nghttp2_data_source* src, void* user) {
  Http2Connection& c = self(user);
  if (evbuffer_get_length(c.out_.get()) >= kOutputHigh) return NGHTTP2_ERR_WOULDBLOCK;
  (void)frame;  // no padding is ever chosen, so the payload is |length| body bytes
  return static_cast<Http2Stream*>(src->ptr)->send_data(c.out_.get(), head, length);
}

int Http2Connection::on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user) {
  if (hd->type == NGHTTP2_HEADERS) self(user).block_bytes_ = 0;
  return 0;
}

int Http2Connection::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                                      void* user) {
  Http2Connection& c = self(user);
  c.block_stream_ = nullptr;
  c.block_bytes_ = 0;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Http2Stream* s = c.new_stream();
  s->open(frame->hd.stream_id, c.now_us());
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s);
  const auto& limits = c.loop_.runtime().config->limits;
  c.builder_.begin(s->block, c.loop_.head_blocks().block_size(), limits.max_request_header,
                   &s->ex->request);
  c.block_stream_ = s;
  return 0;
}

int Http2Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                               size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                               void* user) {
  Http2Connection& c = self(user);
  if (c.terminating_) return 0;
  // Trailers too: every decoded byte is counted, whether or not it is kept.
  c.block_bytes_ += namelen + valuelen + 32;
  if (c.block_bytes_ > kBombFactor * c.loop_.runtime().config->limits.max_request_header) {
    c.flood("HPACK bomb (header block far over max_request_header)");
    return 0;  // the session ignores all input from now on
  }
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST || !c.block_stream_) return 0;
  c.builder_.add(std::string_view(reinterpret_cast<const char*>(name), namelen),
                 std::string_view(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int Http2Connection::on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame,
                                   void* user) {
  Http2Connection& c = self(user);
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  Http2Stream* s = stream_of(session, frame->hd.stream_id);
  switch (frame->hd.type) {
    case NGHTTP2_DATA:
      // Empty DATA frames that end nothing are free to send and cost a wakeup each.
      if (frame->hd.length == 0 && !end_stream) c.control_frame(1);
      if (end_stream && s) s->body_complete();
      break;
    case NGHTTP2_HEADERS:
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && s && s == c.block_stream_) {
        c.block_stream_ = nullptr;
        auto head = c.builder_.finish(end_stream);
        if (!head) c.charge_reset(s, kRefusedHeadCost);
        s->head_complete(end_stream, head ? 0 : head.error().status,
                         head ? "" : head.error().reason, c.now_us());
      } else if (end_stream && s) {
        s->body_complete();  // trailers end the request; their fields are not forwarded
      }
      break;
    case NGHTTP2_RST_STREAM:
      c.closed_ids_.add(frame->hd.stream_id, ClosedStreams::How::kClientReset);
      c.control_frame(1);
      // A stream cancelled before its response completed: the rapid-reset pattern.
      if (s && !s->closed) c.charge_reset(s);
      break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) c.control_frame(1);
      break;
    case NGHTTP2_WINDOW_UPDATE:  // PRIORITY: check_frame (nghttp2 skips them unread)
      c.control_frame(1);
      break;
    default:
      break;
  }
  return 0;
}

int Http2Connection::on_invalid_frame_recv(nghttp2_session*, const nghttp2_frame* frame, int error,
                                           void* user) {
  Http2Connection& c = self(user);
  LOG_DEBUG("client %s: HTTP/2 invalid frame type %u on stream %d: %s", c.client_ip_,
            frame->hd.type, frame->hd.stream_id, nghttp2_strerror(error));
  c.control_frame(kInvalidFrameCost);
  return 0;
}

int Http2Connection::on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                                   const uint8_t* data, size_t len, void* user) {
  // The connection window comes back at once (a held stream must not stall the others); a
  // stream's own window when the stream says so. (nghttp2 counts padding and ignored DATA itself.)
  nghttp2_session_consume_connection(session, len);
  Http2Stream* s = stream_of(session, stream_id);
  if (!s || !s->body_data(data, len, self(user).now_us()))
    nghttp2_session_consume_stream(session, stream_id, len);
  return 0;
}

int Http2Connection::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame,
                                   void* user) {
  Http2Connection& c = self(user);
  if (frame->hd.type == NGHTTP2_RST_STREAM)
    c.closed_ids_.add(frame->hd.stream_id, ClosedStreams::How::kWeReset);
  // Each reset we send for a client's fault (a refused stream, an invalid field) costs it too:
  // a client cannot make us reset streams for free ("MadeYouReset").
  if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code != NGHTTP2_NO_ERROR &&
      frame->rst_stream.error_code != NGHTTP2_INTERNAL_ERROR)
    c.control_frame(1);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  // Responses earn the client room for the control frames that go with reading them: a client
  // may give window back for every DATA frame, on the stream and on the connection (Go's does).
  c.control_budget_.credit(frame->hd.type == NGHTTP2_DATA ? 2 : 1);
  Http2Stream* s = stream_of(session, frame->hd.stream_id);
  if (!s) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && s->ex) {
    s->ex->bytes_out += 9 + frame->hd.length;
    s->ex->head_bytes += 9 + frame->hd.length;
  }
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->response_sent();
  return 0;
}

int Http2Connection::on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t error,
                                     void* user) {
  // After the resets recorded on the way (a RST_STREAM either way comes before its close).
  if (stream_id & 1) self(user).closed_ids_.add(stream_id, ClosedStreams::How::kEnded);
  Http2Stream* s = stream_of(session, stream_id);
  if (!s || s->closed) return 0;
  if (error != NGHTTP2_NO_ERROR && s->ex)
    LOG_DEBUG("client %s: HTTP/2 stream %d closed: %s", s->ex->client_ip, stream_id,
              nghttp2_http2_strerror(error));
  Http2Connection& c = self(user);
  // nghttp2 refused the head itself (an invalid field): the client made us reset it.
  if (error != NGHTTP2_NO_ERROR && !s->head_done()) c.charge_reset(s, kRefusedHeadCost);
  s->closed = true;
  nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
  c.closing_.push_back(s);
  return 0;
}

void Http2Connection::check_frame(const FrameGate::Frame& f, bool open) {
  if (f.type == FrameGate::kPriority) {
    control_frame(1);
    // nghttp2 skips PRIORITY frames unread without RFC 7540 priorities; RFC 9113 still forbids
    // these two. Both are connection errors here, as nghttp2 itself treats a self-dependency.
    if (f.stream_id == 0) goaway(NGHTTP2_PROTOCOL_ERROR, "PRIORITY on stream 0");
    if (f.depends_on == f.stream_id) goaway(NGHTTP2_PROTOCOL_ERROR, "PRIORITY on itself");
    return;
  }
  // DATA or HEADERS on a client stream id already used and not open in the session: closed.
  if (!f.used_id || open) return;
  switch (closed_ids_.find(f.stream_id)) {
    case ClosedStreams::How::kWeReset:
      return;  // RFC 9113 5.1: what the client sent before it saw our RST_STREAM is ignored
    case ClosedStreams::How::kClientReset:
      control_frame(kInvalidFrameCost);
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, f.stream_id,
                                NGHTTP2_STREAM_CLOSED);
      return;
    case ClosedStreams::How::kEnded:
      goaway(NGHTTP2_STREAM_CLOSED, "frame on a closed stream");
      return;
    case ClosedStreams::How::kUnknown:
      // After our GOAWAY, streams past its last id are ignored (RFC 9113 6.8), not errors.
      if (draining_) return;
      // A HEADERS frame with an id below one already used opens nothing (RFC 9113 5.1.1); DATA
      // there is on a stream closed long ago, or implicitly closed.
      if (f.type == FrameGate::kHeaders)
        goaway(NGHTTP2_PROTOCOL_ERROR, "stream id below one already used");
      else
        goaway(NGHTTP2_STREAM_CLOSED, "DATA on a closed stream");
      return;
  }
}

int Http2Connection::on_error(nghttp2_session*, int, const char* msg, size_t len, void* user) {
  LOG_DEBUG("client %s: HTTP/2: %.*s", self(user).client_ip_, static_cast<int>(len), msg);
  return 0;
}

}  // namespace proxy
