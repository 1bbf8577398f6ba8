// SPDX-License-Identifier: MIT
// The response body half of UpstreamConnection: reading as fast as the backend sends (or, when
// streaming, as the client takes) and framing the bytes for the client.
#include <sys/socket.h>

#include <cerrno>

#include "proxy/base/log.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

template <class T>
T min3(T a, T b, T c) {
  T m = a < b ? a : b;
  return m < c ? m : c;
}

}  // namespace

// Appends body bytes, framed for the client, to the exchange's output. Returns false if the body
// is broken (the connection is then gone).
bool UpstreamConnection::consume(const char* data, size_t len) {
  Exchange& ex = *ex_;
  auto put = [&](const char* p, size_t n) -> bool {
    // A cache fill gets the decoded bytes as they arrive; a fill that cannot keep them (too
    // large, out of room) is given up, and the client's response goes on.
    if (auto& w = ex.caching.writer; w && !w->append(p, n)) w.reset();
    if (ex.chunked_out) {
      return ex.out.append_chunk_header(n) && ex.out.append(p, n) && ex.out.append("\r\n", 2);
    }
    return static_cast<bool>(ex.out.append(p, n));
  };
  switch (ex.response.framing) {
    case http::Framing::kLength: {
      size_t take = len < body_left_ ? len : static_cast<size_t>(body_left_);
      if (take > 0 && !put(data, take)) {
        body_broken("cannot buffer the response");
        return false;
      }
      body_left_ -= take;
      if (len > take) {
        EX_LOG_WARN(*ex_, "backend sent %zu bytes after a complete response; not reusing it",
                    len - take);
        reusable_ = false;
      }
      if (body_left_ == 0) {
        if (readable_ && reusable_) check_drained();  // a read of exactly the body's end
        complete();
      }
      return true;
    }
    case http::Framing::kChunked: {
      size_t pos = 0;
      while (pos < len) {
        auto r = chunked_.feed(std::string_view(data + pos, len - pos));
        if (r.status == http::ChunkedDecoder::Status::kError) {
          EX_LOG_WARN(*ex_, "backend sent a broken chunked body: %s", chunked_.error());
          body_broken(chunked_.error());
          return false;
        }
        if (r.status == http::ChunkedDecoder::Status::kData &&
            !put(data + pos + r.data_off, r.data_len)) {
          body_broken("cannot buffer the response");
          return false;
        }
        pos += r.consumed;
        if (r.status == http::ChunkedDecoder::Status::kDone) {
          if (ex.chunked_out && !ex.out.append("0\r\n\r\n", 5)) {
            body_broken("cannot buffer the response");
            return false;
          }
          if (pos < len) {
            EX_LOG_WARN(*ex_, "backend sent %zu bytes after a complete response; not reusing it",
                        len - pos);
            reusable_ = false;
          }
          complete();
          return true;
        }
        if (r.status == http::ChunkedDecoder::Status::kNeedMore) break;
      }
      return true;
    }
    case http::Framing::kUntilClose:
      if (!put(data, len)) {
        body_broken("cannot buffer the response");
        return false;
      }
      return true;
    case http::Framing::kNone:
      complete();
      return true;
  }
  return true;
}

void UpstreamConnection::read_body() {
  while (state_ == State::kBody && readable_ && !paused_) {
    Exchange& ex = *ex_;
    // Memory first, then the temporary file: the body spills by what it holds, whatever the
    // client's pace (a client taking a little at a time must not hold the backend). Only a full
    // file (max_temp_file, per response and per client connection) makes the backend wait.
    const uint64_t room = ex.out.room();
    if (room == 0) {
      paused_ = true;
      break;
    }
    const auto framing = ex.response.framing;
    // A cache fill takes the bytes too: they go through consume(), which tees them.
    const bool direct = !ex.chunked_out && framing != http::Framing::kChunked &&
                        !ex.caching.writer && ex.out.memory_room() > 0;
    ssize_t n;
    if (direct) {
      // Straight into the output buffer: one copy from the kernel, none by us.
      size_t want = min3<uint64_t>(ex.out.memory_room(), room, kReadChunk);
      if (framing == http::Framing::kLength && want > body_left_) want = body_left_;
      n = ex.out.read_from(fd_, want);
      if (n > 0) {
        if (static_cast<size_t>(n) < want && !peer_closed_) readable_ = false;
        got_bytes_ = true;
        if (framing == http::Framing::kLength) {
          body_left_ -= static_cast<uint64_t>(n);
          if (body_left_ == 0) {
            check_drained();
            complete();
            break;
          }
        }
        if (!notify(&Downstream::output_ready)) return;
        continue;
      }
    } else {
      size_t want = min3<uint64_t>(EventLoop::kScratchSize, room, kReadChunk);
      if (framing == http::Framing::kLength && want > body_left_) want = body_left_;
      n = ::recv(fd_, loop_.scratch(), want, 0);
      if (n > 0) {
        if (static_cast<size_t>(n) < want && !peer_closed_) readable_ = false;
        got_bytes_ = true;
        if (!consume(loop_.scratch(), static_cast<size_t>(n))) return;
        if (state_ == State::kBody && !notify(&Downstream::output_ready)) return;
        continue;
      }
    }
    if (n == 0) {
      if (framing == http::Framing::kUntilClose) {
        if (ex.chunked_out && !ex.out.append("0\r\n\r\n", 5)) {
          body_broken("cannot buffer the response");
          return;
        }
        reusable_ = false;
        complete();
        return;
      }
      EX_LOG_WARN(*ex_, "backend closed the connection mid-body");
      body_broken("backend closed mid-body");
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      break;
    }
    if (errno == EINTR) continue;
    body_broken("backend connection reset mid-body");
    return;
  }
  if (ex_) notify(&Downstream::output_ready);
}

void UpstreamConnection::check_drained() {
  // Bytes beyond the body would be taken for the next response: never reuse then. Nothing
  // there (EAGAIN) also says the socket is drained: a read that filled its |want| exactly left
  // readable_ set, and the pool would then take the idle connection for one the backend had
  // closed (a backend that writes head and body apart, every time).
  char c;
  if (::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
    reusable_ = false;
  else
    readable_ = false;
}

// Output is handed over as soon as it is read: the body flows through memory while the client
// keeps up, and into the file when it does not.
bool UpstreamConnection::notify(void (Downstream::*event)()) {
  ++busy_;
  (ex_->downstream->*event)();
  --busy_;
  if (dead_) {
    if (busy_ == 0) delete this;
    return false;
  }
  return ex_ != nullptr;
}

void UpstreamConnection::output_drained() {
  if (!paused_ || !ex_) return;
  // Resume once there is room for a large read, rather than many small ones.
  const uint64_t room = ex_->out.room();
  if (room < kReadChunk / 4 && !ex_->out.empty()) return;
  paused_ = false;
  event_add(&ev_, loop_.timeouts().backend_response);
  read_body();
}

}  // namespace proxy
