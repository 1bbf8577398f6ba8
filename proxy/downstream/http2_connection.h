// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event_struct.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/base/clock.h"
#include "proxy/base/event_handles.h"
#include "proxy/connection.h"
#include "proxy/downstream/http2_flood_budget.h"
#include "proxy/downstream/http2_frame_gate.h"
#include "proxy/downstream/http2_stream.h"
#include "proxy/http/h2_request.h"
#include "proxy/io/body_buffer.h"
#include "proxy/io/transport.h"

namespace proxy {

class EventLoop;
struct ListenerRef;

// Takes over a client connection that speaks HTTP/2: after ALPN chose "h2", or on a plain
// listener when the first bytes are the connection preface (h2c with prior knowledge).
// |already_read| holds the bytes received so far, the preface included; the session reads them
// first. From here on the HTTP/2 connection owns the transport and the connection's counting: it
// calls loop.release_connection(peer) when it closes.
// |over_limit|, when set, says which connection limit the client is over: each stream it opens
// is answered 503 (as nginx's limit_conn does) and the connection is drained.
void start_http2(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                 socklen_t peer_len, const ListenerRef& listener, std::string_view already_read,
                 const char* over_limit = nullptr);

struct Nghttp2SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
using Nghttp2SessionPtr = std::unique_ptr<nghttp2_session, Nghttp2SessionDeleter>;

// A client connection speaking HTTP/2 through nghttp2 (RFC 9113). Each request stream is an
// Http2Stream running the same pipeline as an HTTP/1.1 request.
//
// I/O: one edge-triggered event; bytes read go to nghttp2_session_mem_recv, frames leave through
// an output buffer written with the transport's writev. The session's callbacks only record what
// happened; drive() then lets streams run the pipeline, outside the session (re-entrant calls from
// streams and backends only ask drive() for another turn). Reading stops while the output backs up.
//
// Defences (counted per connection; an offender gets GOAWAY and is closed, other connections are
// not affected): a control-frame budget (SETTINGS, PING, WINDOW_UPDATE, PRIORITY, RST_STREAM,
// empty DATA) that refills with time and with frames we send; a rapid-reset budget for streams the
// client cancels or makes us refuse; header blocks bounded by limits.max_request_header (431, or a
// reset far past it) and by nghttp2's CONTINUATION cap; a send timeout for clients that take no
// response bytes (zero window); idle and per-stream timeouts.
class Http2Connection final : public Connection {
 public:
  Http2Connection(EventLoop& loop, io::Transport&& transport, const sockaddr* peer,
                  socklen_t peer_len, const ListenerRef& listener);
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  void start(std::string_view already_read);
  // Graceful stop: GOAWAY with a shutdown notice, then the final GOAWAY; open streams finish.
  void drain() override;

  // For streams.
  EventLoop& loop() { return loop_; }
  nghttp2_session* session() { return session_.get(); }
  const sockaddr* peer() const { return reinterpret_cast<const sockaddr*>(&peer_); }
  const ListenerRef& listener() const { return listener_; }
  bool tls() const { return transport_.tls(); }
  std::string_view client_ip() const { return {client_ip_, client_ip_len_}; }
  // |s| has something to do outside the session: it gets a turn in drive().
  void wake(Http2Stream* s);
  // A stream the client made us refuse or cancel: charges the rapid-reset budget.
  void charge_reset(Http2Stream* s, uint32_t cost = 1);
  // The temporary-file bytes of all this connection's responses (max_temp_file per connection).
  io::FileBudget& temp_files() { return temp_files_; }
  // The connection limit this client is over (its streams get 503), or null.
  const char* over_limit() const { return over_limit_; }
  void set_over_limit(const char* why) { over_limit_ = why; }
  // Response DATA moved to the output: the client is taking bytes.
  void data_sent(size_t frame_bytes);
  int64_t now_us() const;

 private:
  enum class Timer : uint8_t { kNone, kIdle, kTick, kLinger };
  // Output held before nghttp2 is told to wait (and reading stops).
  static constexpr size_t kOutputHigh = 64 * 1024;

  ~Http2Connection();
  static void on_event(evutil_socket_t fd, short what, void* arg);
  static void on_timer(evutil_socket_t fd, short what, void* arg);
  void drive();
  void read_input();
  void feed(const char* data, size_t len);
  // RFC 9113 5.1, 5.1.1, 5.3.1, 6.3 for a frame whose head nghttp2 has just read; |open|: its
  // stream was open in the session as the frame came.
  void check_frame(const FrameGate::Frame& f, bool open);
  void run_turns();
  void flush();
  ssize_t write_output();
  void reap();
  void check_done();
  void on_timeout(Timer fired);
  void tick();
  // A fatal session error: a GOAWAY written by hand, since the session cannot be used any more.
  void fatal(int rv);
  void update_timer();
  void arm(Timer mode, const timeval* tv);
  // Ends the connection for a reason: GOAWAY |code| (best effort), then a lingering close.
  void goaway(uint32_t code, const char* why);
  void begin_linger();
  void final_goaway();
  // No stream opened by the client yet (a drain then waits for its first one).
  bool first_stream_pending() const;
  void close();
  Http2Stream* new_stream();
  void free_stream(Http2Stream* s);

  // Session (http2_session.cc).
  bool make_session();
  static ssize_t on_send(nghttp2_session*, const uint8_t* data, size_t len, int, void* user);
  static int on_send_data(nghttp2_session*, nghttp2_frame* frame, const uint8_t* head,
                          size_t length, nghttp2_data_source* src, void* user);
  static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user);
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                       void* user);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_invalid_frame_recv(nghttp2_session*, const nghttp2_frame* frame, int error,
                                   void* user);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                           size_t len, void* user);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error, void* user);
  static int on_error(nghttp2_session*, int code, const char* msg, size_t len, void* user);
  void control_frame(uint32_t cost);
  void flood(const char* what);

  EventLoop& loop_;
  const ListenerRef& listener_;
  io::Transport transport_;
  Nghttp2SessionPtr session_;
  event ev_;
  event timer_;
  base::EvbufferPtr out_;  // frames for the client, not yet written
  sockaddr_in6 peer_{};
  char client_ip_[46] = {};
  uint8_t client_ip_len_ = 0;

  // Flags of the I/O state (edge-triggered: true until an operation says EAGAIN).
  bool readable_ = true;
  bool writable_ = true;
  bool read_wants_write_ = false;  // TLS: a read waits for writability
  bool write_wants_read_ = false;  // TLS: a write waits for readability
  bool peer_closed_ = false;
  bool driving_ = false;
  bool again_ = false;
  bool deferred_ = false;  // a wake asked for a turn at the end of this loop turn
  bool closed_ = false;
  bool draining_ = false;
  const char* over_limit_ = nullptr;  // see over_limit(); its slot is given back at close
  bool final_goaway_ = false;
  bool awaiting_first_ = false;  // draining, and waiting for the client's first stream
  bool terminating_ = false;     // GOAWAY for a fault or a timeout is on its way
  bool lingering_ =
      false;             // GOAWAY sent for a fault: drain what the client still sends, then close
  bool failed_ = false;  // a fatal session error: no more session calls
  Timer timer_mode_ = Timer::kNone;
  Timer fired_ = Timer::kNone;
  const timeval* tick_tv_ = nullptr;  // the regular tick: 1 s, or the shortest timeout
  int64_t tick_us_ = 0;
  int64_t next_due_us_ = INT64_MAX;  // the earliest deadline the last tick saw
  int64_t last_tick_us_ = 0;
  int64_t data_sent_us_ = 0;  // the last response DATA handed to the output
  int64_t drain_since_us_ = 0;
  int64_t terminating_since_us_ = 0;
  int64_t stalled_since_us_ = 0;  // output pending and no DATA taken since then; 0 when flowing
  uint64_t linger_bytes_ = 0;
  base::TimePoint now_{};

  // Streams: open ones (a list), ones to wake, and recycled objects.
  Http2Stream* streams_ = nullptr;
  size_t stream_count_ = 0;
  std::vector<Http2Stream*> turns_;
  std::vector<Http2Stream*> closing_;
  std::vector<Http2Stream*> spare_;

  // The header block being received (blocks never interleave on a connection).
  http::H2RequestBuilder builder_;
  Http2Stream* block_stream_ = nullptr;
  uint64_t block_bytes_ = 0;  // decoded bytes of the current block, trailers included

  io::FileBudget temp_files_;

  FrameGate gate_;
  ClosedStreams closed_ids_;

  FloodBudget control_budget_;
  FloodBudget reset_budget_;
};

}  // namespace proxy
