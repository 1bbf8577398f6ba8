// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "proxy/base/clock.h"
#include "proxy/base/error.h"
#include "proxy/base/page_alloc.h"
#include "proxy/exchange_cache.h"
#include "proxy/http/message.h"
#include "proxy/http/parser.h"
#include "proxy/io/body_buffer.h"
#include "proxy/offload/exchange_file.h"
#include "proxy/offload/offload_decision.h"
#include "proxy/offload/upload_file.h"
#include "proxy/runtime.h"

namespace proxy {

// What a streaming request body keeps in memory between the client and the backend (HTTP/1.1; an
// HTTP/2 stream is bounded by its flow-control window instead).
inline constexpr size_t kStreamingBodyMemory = 64 * 1024;

class EventLoop;
class Downstream;
class UpstreamConnection;
class BodyProducer;

// One request and its response, from the parsed head to the access log line. Owned by the
// downstream connection; recycled by the event loop so the hot path allocates nothing.
struct Exchange {
  Downstream* downstream = nullptr;
  EventLoop* loop = nullptr;
  std::shared_ptr<const Runtime> runtime;  // the config this exchange started with
  uint64_t id = 0;
  char client_ip[46] = {};  // the client's address as text, for X-Forwarded-For and logs
  uint8_t client_ip_len = 0;

  // Request side.
  http::RequestHead request;
  http::ChunkedDecoder request_chunked;
  // The decoded body: received whole before the backend is asked, or, when streaming, a small
  // window of it between the client and the backend.
  io::BodyBuffer request_body;
  uint64_t request_body_size = 0;
  // The most body bytes the request may have (413 past it): limits.max_request_body, or the
  // rule's upload_offload.max. Set by prepare_body().
  uint64_t body_limit = 0;
  // upload_offload: the body goes into this file instead of request_body, and the backend gets
  // its path, size and SHA-256 (an empty body). Removed when the exchange ends unless the backend
  // answered X-Upload-Keep: 1.
  offload::UploadFile upload;
  bool request_complete = false;  // head and body fully received
  // buffering: off and the body was still coming when the pipeline reached it: it flows to the
  // backend as it arrives, with backpressure both ways (a small window in memory, no file).
  bool body_streaming = false;
  // HTTP/2 WebSocket (RFC 8441): the Sec-WebSocket-Key sent for it to the backend, base64.
  char websocket_key[24] = {};
  const conf::Rule* rule = nullptr;
  const UpstreamPoolInfo* pool = nullptr;

  // Upstream side. |upstream| is the backend connection serving this exchange, if any: the
  // request side talks to it (body_ready() for a streaming request body).
  UpstreamConnection* upstream = nullptr;
  const UpstreamServer* server = nullptr;
  int attempts = 0;
  http::ResponseHead response;  // the backend's head (views into the upstream's block)
  bool streaming = false;       // X-Accel-Buffering: no or a rule: read at the client's pace
  // What fills |out| with the response body (body_producer.h): the backend connection while it
  // is attached, or a local producer (a cache object, a file). Not owned. The downstream talks to
  // the body only through it (output_drained, abandon), whatever it is. Cleared by the producer
  // when it has let go of the exchange.
  BodyProducer* producer = nullptr;
  // The producer has added the whole body to |out| (or there is none): once |out| is drained the
  // response is complete. (The name predates local producers.)
  bool upstream_done = false;
  bool aborted = false;  // the response broke mid-body: the client must see a cut
  base::TimePoint upstream_start{};
  base::Duration upstream_time{-1};

  // Downstream output: the response head and body, framed for the client, in order.
  io::BodyBuffer out;
  int status = 0;
  bool local_response = false;  // made by gatehouse, not by a backend
  bool chunked_out = false;     // re-chunking the body for the client
  bool close_after = false;     // the connection closes after this response
  uint64_t bytes_out = 0;       // bytes written to the client, head included
  uint64_t head_bytes = 0;      // of those, the response head (HTTP/1.1 text, HTTP/2 HEADERS)
  uint64_t data_bytes = 0;      // HTTP/2: DATA payload bytes sent (frame heads excluded)
  // A head the parser refused: the request line as received (possibly partial), for the logs.
  // Points into the connection's input block, which outlives the exchange's log line.
  std::string_view raw_request_line;
  const char* error_detail = "";
  // A local response's own body and type (the admin API's JSON) instead of the status text, and
  // the Allow field of a local 405. local_text keeps its allocation from exchange to exchange.
  std::string local_text;
  std::string_view local_type;
  std::string_view allow;
  // HTTP/2: the deliver stage decided the response (ex.response or a local one); the stream then
  // sends it as a HEADERS frame and the body from `out` (which holds no head).
  bool response_ready = false;

  // The cache's part in this exchange (lookup outcome, the object served, the fill fed).
  ExchangeCache caching;
  // The file the response is served from (static, X-Accel, X-Sendfile: offload/file_serve.h).
  offload::ExchangeFile file;

  // X-Accel-Redirect / X-Sendfile (stages/offload.cc): the backend's decision, copied out of
  // its head; |discard_upstream|: the backend's body is dropped, never sent.
  offload::OffloadDecision offload;
  bool discard_upstream = false;
  // X-Accel-Redirect to an internal location with a pool: the request was rewritten to
  // |redirect_target| (its path and query; GET, or HEAD) and goes to that pool. At most
  // kMaxInternalRedirects, then 500. |redirect_pending|: chosen while a backend connection is
  // attached; it lets go first, then resumes the pipeline with Next::kRedirect.
  static constexpr uint8_t kMaxInternalRedirects = 10;
  uint8_t internal_redirects = 0;
  bool redirect_pending = false;
  std::string redirect_target;

  // Pipeline position.
  uint8_t stage = 0;
  base::TimePoint started{};

  // The exchange no longer wants the response body (the client went away, a local answer
  // replaces it): tells the producer and the backend connection to let go, and forgets both.
  void drop_producer();

  // The codec is about to receive the request body (the rule is known): sets body_limit and, on
  // an upload_offload rule, opens the upload file (an error when it cannot be made).
  base::Expected<void, base::Error> prepare_body();
  // Decoded request body bytes: to the upload file when there is one, else to request_body. The
  // caller counts request_body_size and enforces body_limit.
  base::Expected<void, base::Error> take_body(const char* data, size_t len) {
    return upload.active() ? upload.write(data, len) : request_body.append(data, len);
  }

  // A 413's detail: the limit the body went over.
  const char* over_limit_text() const {
    return upload.active() ? "request body over upload_offload.max"
                           : "request body over limits.max_request_body";
  }

  // Back to the state of a new exchange; keeps buffers' allocations for the next one.
  void reset();

  // Exchanges are large (two header lists) and short-lived: see page_alloc.h.
  static void* operator new(size_t size) { return base::page_alloc(size); }
  static void operator delete(void* p, size_t size) { base::page_free(p, size); }
};

}  // namespace proxy
