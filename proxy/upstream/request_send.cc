// SPDX-License-Identifier: MIT
// The request half of UpstreamConnection: the head, then the body, whole from memory or the spill
// file, or (buffering: off) streamed as the client sends it, one window at a time.
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/upstream/request_head.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {

void UpstreamConnection::start_request() {
  io::HeadBuilder head(loop_.scratch(), EventLoop::kScratchSize);
  build_request_head(*ex_, head);
  // Decided with the head: a body that is whole by now goes as it always did.
  body_stream_ = ex_->body_streaming && !ex_->request_complete;
  body_chunked_ = body_stream_ && streams_chunked(*ex_);
  if (!out_) out_.reset(evbuffer_new());
  size_t sent = 0;
  if (state_ == State::kSending && writable_) {
    ssize_t n = ::send(fd_, head.data(), head.size(), MSG_NOSIGNAL);
    if (n > 0) sent = static_cast<size_t>(n);
  }
  if (sent < head.size()) evbuffer_add(out_.get(), head.data() + sent, head.size() - sent);
  if (state_ == State::kSending) send_request();
}

void UpstreamConnection::send_request() {
  bool failed = false;
  // One write's outcome: true to keep writing.
  auto go_on = [&](ssize_t n) {
    if (n >= 0 || errno == EINTR) return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      writable_ = false;
    else
      failed = true;
    return false;
  };
  evbuffer* head = out_.get();
  bool taken = false;
  for (;;) {
    while (writable_ && evbuffer_get_length(head) > 0 && go_on(evbuffer_write(head, fd_))) {
    }
    // A streamed body refills out_ only once it is empty: at most one window in flight here.
    if (!body_stream_ || failed || evbuffer_get_length(head) > 0 || !queue_body()) break;
    taken = true;
  }
  while (!body_stream_ && writable_ && evbuffer_get_length(head) == 0 &&
         !ex_->request_body.empty() && go_on(ex_->request_body.write_to(fd_))) {
  }
  if (failed) {
    fail(base::ErrorCode::kConnectionLost, "backend closed the connection");
    return;
  }
  if (evbuffer_get_length(out_.get()) == 0 && ex_->request_body.empty() &&
      (!body_stream_ || body_end_queued_)) {
    request_sent_ = true;
    state_ = State::kHead;
    // The wait for the answer starts with the body's last byte, not with the head.
    if (body_stream_) event_add(&ev_, loop_.timeouts().backend_response);
  }
  if (taken && !notify(&Downstream::body_taken)) return;
  // A backend may answer before it has read the whole request (an early 413, say).
  if (readable_ && (state_ == State::kSending || state_ == State::kHead)) read_head();
}

bool UpstreamConnection::queue_body() {
  auto& body = ex_->request_body;
  evbuffer* out = out_.get();
  const uint64_t n = body.size();
  if (n > 0) {
    if (body_chunked_) {
      char line[24];
      const int len = snprintf(line, sizeof line, "%llx\r\n", static_cast<unsigned long long>(n));
      evbuffer_add(out, line, static_cast<size_t>(len));
    }
    // Memory chains change hands without a copy.
    if (body.move_to(out, n) != static_cast<ssize_t>(n)) return false;
    if (body_chunked_) evbuffer_add(out, "\r\n", 2);
    return true;
  }
  if (!ex_->request_complete || body_end_queued_) return false;
  body_end_queued_ = true;
  if (!body_chunked_) return false;
  evbuffer_add(out, "0\r\n\r\n", 5);
  return true;
}

bool UpstreamConnection::waiting_for_client_body() const {
  return body_stream_ && !body_end_queued_ && evbuffer_get_length(out_.get()) == 0 && ex_ &&
         ex_->request_body.empty();
}

void UpstreamConnection::body_ready() {
  // Not writable: the socket's next write edge sends it. Past kSending the backend has answered
  // and takes no more of the body.
  if (state_ != State::kSending || !body_stream_ || !writable_) return;
  ++busy_;
  send_request();
  --busy_;
  if (dead_ && busy_ == 0) delete this;
}

}  // namespace proxy
