// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event_struct.h>

#include <cstdint>

#include "proxy/base/error.h"
#include "proxy/base/event_handles.h"
#include "proxy/body_producer.h"
#include "proxy/http/parser.h"
#include "proxy/pipeline.h"

namespace proxy {

class Downstream;

class EventLoop;
struct Exchange;
struct UpstreamServer;

// One HTTP/1.1 connection to a backend server. It sends an exchange's request, reads the response
// head, and then reads the body as fast as the backend sends it into the exchange's output (memory,
// then a temporary file), so a slow client never holds the backend. In streaming mode it reads only
// as fast as the client takes. A connection goes back to its server's keep-alive pool only after a
// complete response with nothing behind it. It is the exchange's body producer while it is
// attached (ex.producer == this, from attach to the detach at the end, failure or abandon).
class UpstreamConnection final : public BodyProducer {
 public:
  // The forward stage: sends ex's request to a server of its pool. The pipeline is resumed when the
  // response head is in (ex.response), or failed.
  static Next forward(Exchange& ex);

  // The exchange no longer wants the response (client gone, local error): close.
  void abandon() override;
  // The client took bytes: reading resumes if it had paused for room.
  void output_drained() override;
  // A streaming request body (ex.body_streaming) has new bytes in ex.request_body, or is complete:
  // sending resumes if it had run dry. The downstream hears back through body_taken().
  void body_ready();

  // Used by the keep-alive pool.
  bool idle_check_alive();
  void close_idle();
  const UpstreamServer& server() const { return *server_; }
  // An idle connection kept across a reload: the same address in the new runtime.
  void rebind(const UpstreamServer& server) { server_ = &server; }
  UpstreamConnection* pool_next = nullptr;
  UpstreamConnection* pool_prev = nullptr;

  UpstreamConnection(EventLoop& loop, const UpstreamServer& server);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

 private:
  enum class State : uint8_t { kConnecting, kSending, kHead, kBody, kIdle, kClosed };

  // Starts one attempt: a server of the pool, an idle (unless fresh) or new connection, the
  // request on its way. False with ex.status set when no attempt could start.
  static bool begin(Exchange& ex, bool fresh_connection);
  // Another attempt is left and another server can take it.
  static bool retry_allowed(const Exchange& ex);
  // The failure of the current attempt, and whether the request may safely go again.
  base::Error classify(base::ErrorCode code, const char* detail) const;
  // A pooled connection that the backend had closed before our request reached it.
  bool stale_pooled(base::ErrorCode code) const;
  static void on_event(evutil_socket_t fd, short what, void* arg);
  void handle(short what);
  bool connect_now();
  void attach(Exchange& ex);
  // Lets go of the exchange: ex.upstream and ex.producer (if it is this) are cleared.
  void detach();
  void start_request();
  void send_request();
  // Streaming body: moves what ex.request_body holds into out_, chunk-framed if need be, and the
  // body's end once it is complete. False when there was nothing to move.
  bool queue_body();
  bool waiting_for_client_body() const;
  void read_head();
  void on_head(size_t head_len);
  // A 101 (upgrade.cc): checked against the request, delivered, and the connection handed to the
  // downstream as the backend side of a tunnel; else a 502.
  void switch_protocols(size_t head_len);
  void read_body();
  bool consume(const char* data, size_t len);
  void complete();
  // The body's last byte is read: whether the socket holds more (then it is never reused) or
  // is drained (readable_ is cleared, so the idle pool does not take it for closed).
  void check_drained();
  // Whether the response (head ending at |head_end| in the head block) is all in the block:
  // nothing more to read before the connection can serve another request.
  bool response_whole_in_block(size_t head_end) const;
  // Puts this connection (detached, its response over) in the idle pool if the backend and
  // the exchange allow it (|keep_alive|: the backend's response said so); false if it must close.
  bool park(const Exchange& ex, bool keep_alive);
  void fail(base::ErrorCode code, const char* detail);
  void body_broken(const char* detail);
  // Tells the downstream of |event| (output_ready: bytes to send; body_taken: room for more
  // request body). False if this connection is gone meanwhile (the client went away): the caller
  // returns without touching it.
  bool notify(void (Downstream::*event)());
  void release_head_block();
  void destroy();

  EventLoop& loop_;
  const UpstreamServer* server_;
  event ev_;
  int fd_ = -1;
  State state_ = State::kClosed;
  bool readable_ = false;
  bool peer_closed_ = false;  // EV_CLOSED seen: the next reads end in EOF
  bool writable_ = false;
  bool reused_ = false;     // served a response before: it may have been closed meanwhile
  bool got_bytes_ = false;  // some response byte arrived for the current request
  int keepalive_ = 0;       // the idle cap of the pool this connection serves (attach())
  bool reusable_ = true;    // the backend allows reuse and sent nothing extra
  bool paused_ = false;     // waiting for the client to take bytes
  bool request_sent_ = false;
  bool body_stream_ = false;      // the body is sent as it arrives (buffering: off)
  bool body_chunked_ = false;     // ... chunk-framed, since the client gave no length
  bool body_end_queued_ = false;  // ... and its end is in out_
  bool event_added_ = false;
  bool dead_ = false;  // destroyed while still on the stack: freed on the way out
  int busy_ = 0;       // calls in progress on this object
  int sys_error_ = 0;  // errno of a failed connect, for fail()'s log line
  Exchange* ex_ = nullptr;
  base::EvbufferPtr out_;  // request head (and streamed body) bytes not yet sent
  char* head_ = nullptr;   // response head block
  uint32_t head_len_ = 0;
  uint32_t head_scanned_ = 0;
  uint64_t body_left_ = 0;
  http::ChunkedDecoder chunked_;
};

}  // namespace proxy
