// SPDX-License-Identifier: MIT
// How an Http1Connection starts and ends on its transport: the TLS handshake, the hand-over to
// HTTP/2 (ALPN "h2", or the h2c preface on a plain listener), the 400 to plain HTTP on a TLS
// listener, waiting for the readiness a TLS call asked for, and the end: lingering after an
// error, closing with close_notify.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/downstream/http1_connection.h"
#include "proxy/downstream/http2_connection.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/io/head_builder.h"
#include "proxy/pipeline.h"
#include "proxy/stages/response_fields.h"
#include "proxy/stages/status_text.h"

namespace proxy {
namespace {

// RFC 9113 3.4: the preface starts with this request line. A client sending it speaks HTTP/2
// (no HTTP/1.1 request has method PRI), so the HTTP/2 side takes over there and then: nghttp2
// checks the rest, and a wrong preface gets GOAWAY(PROTOCOL_ERROR) and the close (3.5), not a 400.
constexpr char kPrefaceStart[] = "PRI * HTTP/2.0";
constexpr size_t kPrefaceStartLen = sizeof kPrefaceStart - 1;
constexpr uint64_t kMaxLingerBytes = 1 << 20;
constexpr char kPlainHttpBody[] = "The plain HTTP request was sent to HTTPS port\n";
constexpr size_t kPlainHttpBodyLen = sizeof kPlainHttpBody - 1;

}  // namespace

void Http1Connection::step_handshake() {
  using Want = io::Transport::Want;
  if (!(transport_.want() == Want::kRead ? readable_ : writable_)) return;
  if (past_head_deadline()) {  // a ClientHello trickled in: each byte restarted the timer
    close();
    return;
  }
  const int r = transport_.handshake();
  if (r == 0) {
    if (transport_.want() == Want::kRead)
      readable_ = false;
    else
      writable_ = false;
    // The event restarted the timer: keep the handshake's deadline.
    wake_at(head_deadline_, loop_.runtime().config->timeouts.client_header);
    return;
  }
  if (r < 0) {
    if (transport_.plain_http()) {
      answer_plain_http();
      return;
    }
    // Scanners and clients that distrust the certificate fail here all day: not worth a warning.
    if (base::log_level() >= base::LogLevel::kDebug) {
      char ip[64];
      format_client_ip(ip, sizeof ip);
      LOG_DEBUG("client %s: TLS handshake failed: %s", ip, transport_.error());
    }
    close();
    return;
  }
  unsigned len = 0;
  const unsigned char* proto = transport_.alpn(len);
  if (len == 2 && memcmp(proto, "h2", 2) == 0) {
    hand_over_to_http2({});
    return;
  }
  state_ = State::kHead;
  // The request may have come in the same edge as the client's Finished.
  readable_ = true;
  again_ = true;
}

// nginx's answer to the same mistake: the person who typed http:// for an https:// address
// reads why, instead of a reset. The head carries what other local responses do (deliver.cc)
// but is written here: the exchange never reached the pipeline, and the socket is written
// directly because the TLS session failed (OpenSSL sent no alert: nothing precedes it).
void Http1Connection::answer_plain_http() {
  begin_exchange();
  ex_->status = 400;
  ex_->error_detail = "plain HTTP request to a TLS listener";
  ex_->local_response = true;
  ex_->close_after = true;
  EX_LOG_INFO(*ex_, "400 %s", ex_->error_detail);
  io::HeadBuilder h(loop_.scratch(), EventLoop::kScratchSize);
  h.add("HTTP/1.1 400 ").add(stages::reason_phrase(400)).add("\r\n");
  h.add("Date: ").add(loop_.http_date()).add("\r\n");
  h.add("Server: gatehouse\r\n");
  h.add("Content-Type: ").add(stages::kTextPlain).add("\r\n");
  h.add("Content-Length: ").add_number(kPlainHttpBodyLen).add("\r\n");
  h.add("Connection: close\r\n\r\n");
  h.add(kPlainHttpBody);
  // A new connection's send buffer is empty: the few hundred bytes go out in one call, or the
  // client is gone and there is no one to answer.
  const ssize_t n = ::send(transport_.fd(), h.data(), h.size(), MSG_NOSIGNAL);
  const bool sent = n == static_cast<ssize_t>(h.size());
  if (n > 0) ex_->bytes_out = static_cast<uint64_t>(n);
  ex_->head_bytes = h.size() - kPlainHttpBodyLen;
  if (!sent) ex_->aborted = true;
  pipeline::finish(*ex_);
  loop_.release_exchange(ex_);
  ex_ = nullptr;
  if (!sent) {
    close();
    return;
  }
  // As after any other 400 (finish_exchange): let the client read it before the close.
  transport_.shutdown_write();
  state_ = State::kLinger;
  set_timeout(loop_.timeouts().linger);
  again_ = true;
}

// Only the first bytes of a plain connection's first request can be the preface. Over TLS,
// HTTP/2 is chosen by ALPN alone (RFC 9113 3.3), so a TLS client without it gets HTTP/1.1.
bool Http1Connection::check_h2c_preface() {
  const size_t n = in_len_ < kPrefaceStartLen ? in_len_ : kPrefaceStartLen;
  if (memcmp(in_, kPrefaceStart, n) != 0) {
    h2c_possible_ = false;
    return true;
  }
  if (in_len_ < kPrefaceStartLen) return false;  // so far so good: wait for the rest
  hand_over_to_http2(std::string_view(in_, in_len_));
  return false;
}

void Http1Connection::hand_over_to_http2(std::string_view already_read) {
  event_del(&ev_);
  // An over-limit client's streams get their 503 there; its over-limit slot goes with it.
  start_http2(loop_, std::move(transport_), peer(), peer_len(), listener_, already_read,
              over_limit_);
  if (in_) {
    loop_.head_blocks().release(in_);
    in_ = nullptr;
  }
  in_len_ = 0;
  // drive() frees this object; close() is skipped: the socket and the connection's counting now
  // belong to the HTTP/2 side.
  closed_ = true;
}

socklen_t Http1Connection::peer_len() const {
  switch (peer_.sin6_family) {
    case AF_INET:
      return sizeof(sockaddr_in);
    case AF_INET6:
      return sizeof(sockaddr_in6);
    default:
      return sizeof(sa_family_t);
  }
}

void Http1Connection::wait_read() {
  readable_ = false;
  if (transport_.tls() && transport_.want() == io::Transport::Want::kWrite)
    read_waits_write_ = true;
}

void Http1Connection::wait_write() {
  writable_ = false;
  if (transport_.tls() && transport_.want() == io::Transport::Want::kRead) write_waits_read_ = true;
}

void Http1Connection::step_linger() {
  char* buf = loop_.scratch();
  while (readable_) {
    // Raw bytes, never decrypted: they are thrown away, and a TLS session has sent close_notify.
    ssize_t n = ::recv(transport_.fd(), buf, EventLoop::kScratchSize, 0);
    if (n > 0) {
      linger_bytes_ += static_cast<uint64_t>(n);
      if (linger_bytes_ > kMaxLingerBytes) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      readable_ = false;
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  // Entered with nothing to read yet (the client is between two sends): wait for it or the timer.
  if (!readable_) return;
  close();
}

void Http1Connection::close_gracefully() {
  if (transport_.tls()) transport_.shutdown_write();
  close();
}

}  // namespace proxy
