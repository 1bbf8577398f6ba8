// SPDX-License-Identifier: MIT
// The request body half of Http1Connection: Content-Length or chunked bodies received whole
// (memory, then a temporary file) before the pipeline goes on to the backend; or, with buffering:
// off, received alongside the backend request through a small window (streaming).
#include <cerrno>
#include <cstring>

#include "proxy/downstream/http1_connection.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/pipeline.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {
namespace {

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

void Http1Connection::read_body() {
  const auto& req = ex_->request;
  const auto& cfg = *loop_.runtime().config;
  if (auto ok = ex_->prepare_body(); !ok) {
    reject(500, ok.error().detail);
    return;
  }
  // An upload is received whole into its file, even on a rule that streams.
  const bool streaming = ex_->streaming && !ex_->upload.active();
  // Streaming: a window in memory only; reading stops while it is full (room() is honoured).
  if (streaming)
    ex_->request_body.configure(kStreamingBodyMemory, 0, cfg.buffering.temp_path.c_str());
  else
    ex_->request_body.configure(cfg.buffering.request_memory, ex_->body_limit,
                                cfg.buffering.temp_path.c_str());
  if (req.framing == http::Framing::kLength) {
    if (req.content_length > ex_->body_limit) {
      reject(413, ex_->over_limit_text());
      return;
    }
    body_left_ = req.content_length;
  } else {
    ex_->request_chunked.reset(ex_->body_limit);
  }
  if (req.expect_continue && in_len_ == head_len_) send_continue();
  set_timeout(loop_.timeouts().client_body);
  if (streaming) {
    // The connection stays busy (the response may start any time); drive() receives the body
    // beside it. What already came is taken now, so a small body goes out whole.
    ex_->body_streaming = true;
    streaming_body_ = true;
    step_body();
    return;
  }
  state_ = State::kBody;
  again_ = true;
  drive();
}

void Http1Connection::body_taken() {
  drive();
}

void Http1Connection::step_body_stream() {
  const uint64_t before = ex_->request_body_size;
  step_body();
  if (closed_ || !ex_ || !streaming_body_) return;
  const bool done = ex_->request_complete;
  if (done) {
    streaming_body_ = false;
    set_timeout(loop_.timeouts().client_send);
  } else if (ex_->request_body_size == before) {
    return;
  } else {
    set_timeout(loop_.timeouts().client_body);
  }
  if (ex_->upstream) ex_->upstream->body_ready();
}

void Http1Connection::send_continue() {
  // Tiny and first on a socket that has sent nothing else: it fits the socket buffer. (Over TLS
  // a refused write would leave a record OpenSSL wants retried: closing after it is the way out.)
  ssize_t n = transport_.write(kContinue, sizeof kContinue - 1);
  if (n != static_cast<ssize_t>(sizeof kContinue - 1)) ex_->close_after = true;
}

// Moves body bytes held in in_ from `pos` into the request body. Returns false when the request
// was refused (the connection is then answering with an error).
bool Http1Connection::decode_body(size_t& pos) {
  auto& req = ex_->request;
  const uint64_t max_body = ex_->body_limit;
  while (pos < in_len_ && !ex_->request_complete) {
    if (req.framing == http::Framing::kLength) {
      size_t take = in_len_ - pos;
      if (take > body_left_) take = static_cast<size_t>(body_left_);
      if (auto ok = ex_->take_body(in_ + pos, take); !ok) {
        reject(500, ok.error().detail);
        return false;
      }
      pos += take;
      body_left_ -= take;
      ex_->request_body_size += take;
      if (body_left_ == 0) ex_->request_complete = true;
      continue;
    }
    auto r = ex_->request_chunked.feed(std::string_view(in_ + pos, in_len_ - pos));
    if (r.status == http::ChunkedDecoder::Status::kError) {
      if (ex_->request_chunked.over_limit())
        reject(413, ex_->over_limit_text());
      else
        reject(400, ex_->request_chunked.error());
      return false;
    }
    if (r.status == http::ChunkedDecoder::Status::kData) {
      if (ex_->request_body_size + r.data_len > max_body) {
        reject(413, ex_->over_limit_text());
        return false;
      }
      if (auto ok = ex_->take_body(in_ + pos + r.data_off, r.data_len); !ok) {
        reject(500, ok.error().detail);
        return false;
      }
      ex_->request_body_size += r.data_len;
    }
    pos += r.consumed;
    if (r.status == http::ChunkedDecoder::Status::kDone) ex_->request_complete = true;
    if (r.status == http::ChunkedDecoder::Status::kNeedMore) break;
  }
  return true;
}

void Http1Connection::step_body() {
  const size_t cap = loop_.head_blocks().block_size();
  for (;;) {
    size_t pos = body_pos_;
    if (!decode_body(pos)) return;
    // Keep only unconsumed bytes (a partial chunk line, or a pipelined request) after the head.
    size_t keep = in_len_ - pos;
    if (pos != head_len_ && keep > 0) memmove(in_ + head_len_, in_ + pos, keep);
    in_len_ = static_cast<uint32_t>(head_len_ + keep);
    body_pos_ = head_len_;
    if (ex_->request_complete) {
      if (streaming_body_) return;  // the pipeline went on long ago: step_body_stream tells
      state_ = State::kBusy;
      set_timeout(loop_.timeouts().client_send);
      pipeline::resume(*ex_);
      again_ = true;
      return;
    }
    if (!readable_) return;
    // Streaming: the window is full; the client waits until the backend takes bytes.
    if (streaming_body_ && ex_->request_body.size() >= kStreamingBodyMemory) return;
    ssize_t n;
    if (ex_->request.framing == http::Framing::kLength && keep == 0 && !ex_->upload.active() &&
        ex_->request_body.memory_room() > 0) {
      // Straight into the body buffer, never past the body: what follows stays in the socket.
      size_t want = ex_->request_body.memory_room();
      if (want > body_left_) want = static_cast<size_t>(body_left_);
      n = ex_->request_body.read_from(transport_, want);
      if (n > 0) {
        body_left_ -= static_cast<uint64_t>(n);
        ex_->request_body_size += static_cast<uint64_t>(n);
        if (body_left_ == 0) ex_->request_complete = true;
        continue;
      }
    } else {
      size_t room = cap - in_len_;
      if (ex_->request.framing == http::Framing::kLength && room > body_left_)
        room = static_cast<size_t>(body_left_);
      if (room == 0) {
        reject(400, "chunk framing line too long");
        return;
      }
      n = transport_.read(in_ + in_len_, room);
      if (n > 0) {
        in_len_ += static_cast<uint32_t>(n);
        continue;
      }
    }
    if (n == 0) {  // the client gave up mid-body
      close();
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_read();
      return;
    }
    if (errno == EINTR) continue;
    close();
    return;
  }
}

}  // namespace proxy
