// SPDX-License-Identifier: MIT
#pragma once

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <cstdint>

#include "proxy/downstream/downstream.h"

namespace proxy {

class EventLoop;
class Http2Connection;
class Http2Tunnel;
struct Exchange;

// One HTTP/2 request stream as the pipeline sees it: a Downstream whose exchange runs the same
// stages as an HTTP/1.1 request. The connection's session callbacks fill in the request (head
// fields, body DATA) and mark what happened; the stream acts on it in take_turn(), which the
// connection calls outside the nghttp2 session, so the pipeline never runs inside a callback.
//
// Owned by its connection, which recycles stream objects; the exchange and the head block come
// from the event loop's pools and go back when the stream closes.
class Http2Stream final : public Downstream {
 public:
  explicit Http2Stream(Http2Connection& conn) : conn_(conn) {}
  Http2Stream(const Http2Stream&) = delete;
  Http2Stream& operator=(const Http2Stream&) = delete;

  // Downstream.
  void read_body() override;
  void body_taken() override;
  void output_ready() override;
  // RFC 8441: the stream's DATA frames become the tunnel to |backend| (http2_tunnel.cc).
  void upgrade(io::Transport&& backend, std::string_view early) override;
  const sockaddr* peer() const override;
  const ListenerRef& listener() const override;
  bool tls() const override;
  bool http2() const override { return true; }

  // A HEADERS frame opened stream |id|: takes an exchange and a head block.
  void open(int32_t id, int64_t now);
  // The request head is complete (END_HEADERS) and valid or refused (|status| 4xx/5xx).
  void head_complete(bool end_stream, int status, const char* why, int64_t now);
  // DATA for the request body. True when the stream keeps the bytes' flow-control window, to give
  // it back once the backend took them (a streaming body, or before the pipeline chose); false
  // when the caller must give it back now. Over a limit the stream answers.
  bool body_data(const uint8_t* data, size_t len, int64_t now);
  // END_STREAM: the request is complete (if content-length had not made it so already).
  void body_complete();
  // Answers |status| at the next turn (a timeout, a limit), unless a response is under way.
  void refuse(int status, const char* why);
  // The connection's turn for this stream: run or resume the pipeline, submit the response
  // HEADERS, hand new body bytes to the session.
  void take_turn();
  // nghttp2's data source: up to |length| bytes of the response body (see http2_session.cc).
  ssize_t read_data(size_t length, uint32_t* flags);
  // nghttp2 is about to send |length| body bytes after |frame_head|: moves them to |out|.
  int send_data(evbuffer* out, const uint8_t* frame_head, size_t length);
  // A HEADERS or DATA frame with END_STREAM left: the response is complete.
  void response_sent();
  // The stream is closed: logs the exchange and gives back what it held.
  void finish(EventLoop& loop);
  // True while the client still owes something (a head, a body we wait for, or the END_STREAM
  // of a stream whose response went out whole): |deadline_us|.
  bool awaiting_client() const;
  // True while response bytes are ready but not yet taken by the client.
  bool output_pending() const;
  bool head_done() const { return head_done_; }

  int32_t id = 0;
  Exchange* ex = nullptr;
  char* block = nullptr;       // the head block the request's views point into
  int64_t deadline_us = 0;     // for awaiting_client(): client_header, then client_body
  bool closed = false;         // nghttp2 closed it; finish() comes next
  bool dirty = false;          // queued for take_turn()
  bool counted_reset = false;  // already charged to the rapid-reset budget

  // The connection's list of open streams.
  Http2Stream* prev = nullptr;
  Http2Stream* next = nullptr;

 private:
  // The response HEADERS, and the interim 100 (http2_response.cc).
  void submit_response();
  void submit_planned();
  void submit_continue();
  void give_error();
  // Gives the client back the window of body bytes the stream no longer holds.
  void release_window();
  // read_body()'s part once the rule is known: the body's limit (413 past it), and the upload
  // file that takes the bytes held so far. False when the stream was refused (error_status_).
  bool settle_body();
  // The request body is whole: END_STREAM came, or all the bytes content-length announced.
  void body_whole();

  Http2Connection& conn_;
  const char* error_why_ = "";
  int error_status_ = 0;       // a local answer to give at the next turn
  bool head_done_ = false;     // END_HEADERS seen and the head valid
  bool started_ = false;       // the pipeline ran (or an error answer was given)
  bool waiting_body_ = false;  // the pipeline is suspended in receive_body
  bool headers_sent_ = false;  // the response HEADERS were submitted
  bool deferred_ = false;      // the data source said "nothing yet": resume on output
  bool eof_sent_ = false;      // END_STREAM went out
  bool end_seen_ = false;      // the client's END_STREAM came (the body may be whole before)
  bool stream_body_ = false;   // buffering: off: the body goes to the backend as it arrives
  bool body_new_ = false;      // ... and the backend has not been told of new bytes (or the end)
  uint64_t held_ = 0;          // body bytes received whose stream window was not given back
  // RFC 8441 (http2_tunnel.cc): an extended CONNECT for a WebSocket, its DATA the tunnel's bytes.
  bool websocket_ = false;
  bool client_ended_ = false;      // ... and the client's END_STREAM came
  Http2Tunnel* tunnel_ = nullptr;  // after the backend's 101
  friend class Http2Tunnel;
};

}  // namespace proxy
