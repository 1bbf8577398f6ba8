// SPDX-License-Identifier: MIT
#include "proxy/io/transport.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>

namespace proxy::io {

Transport::Transport(int fd, tls::SslPtr ssl) : fd_(fd), ssl_(std::move(ssl)) {
  SSL_set_fd(ssl_.get(), fd);
  SSL_set_accept_state(ssl_.get());
  // Retried writes may come from a buffer that moved (an evbuffer that grew); partial writes let
  // a big write return after each record instead of holding the whole buffer.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

// Turns an SSL_* result into the read(2)-style contract. The error queue is emptied on every
// failure so that SSL_get_error stays meaningful for the next call on this thread.
ssize_t Transport::ssl_result(int ret) {
  const int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      want_ = Want::kRead;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_ = Want::kWrite;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (errno == 0 || errno == EAGAIN) errno = ECONNRESET;
      return -1;
    default:
      ERR_clear_error();
      errno = EPROTO;
      return -1;
  }
}

int Transport::handshake() {
  if (handshake_done()) return 1;
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    handshake_done_ = true;
    return 1;
  }
  if (ssl_result(r) < 0 && errno == EAGAIN) return 0;
  errno = EPROTO;
  return -1;
}

const unsigned char* Transport::alpn(unsigned& len) const {
  const unsigned char* p = nullptr;
  len = 0;
  if (ssl_) SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return p;
}

ssize_t Transport::read(char* buf, size_t len) {
  if (!ssl_) {
    ssize_t n = ::recv(fd_.get(), buf, len, 0);
    drained_ = n >= 0 && static_cast<size_t>(n) < len;
    if (n < 0) want_ = Want::kRead;
    return n;
  }
  // Fill as much of |buf| as the decrypted records allow, so callers see the same "short read
  // means empty" signal as on a plain socket.
  size_t got = 0;
  drained_ = false;
  while (got < len) {
    size_t n = 0;
    int r = SSL_read_ex(ssl_.get(), buf + got, len - got, &n);
    if (r == 1) {
      got += n;
      continue;
    }
    ssize_t res = ssl_result(0);
    if (res < 0 && errno == EAGAIN) {
      drained_ = true;
      if (got > 0) return static_cast<ssize_t>(got);
      return -1;
    }
    if (got > 0) return static_cast<ssize_t>(got);  // the end or the error shows at the next call
    return res;
  }
  return static_cast<ssize_t>(got);
}

ssize_t Transport::write(const char* buf, size_t len) {
  if (!ssl_) {
    ssize_t n = ::send(fd_.get(), buf, len, MSG_NOSIGNAL);
    if (n < 0) want_ = Want::kWrite;
    return n;
  }
  if (len == 0) return 0;
  size_t n = 0;
  if (SSL_write_ex(ssl_.get(), buf, len, &n) == 1) return static_cast<ssize_t>(n);
  ssize_t res = ssl_result(0);
  return res == 0 ? (errno = EPIPE, -1) : res;
}

ssize_t Transport::writev(const iovec* iov, int count) {
  if (!ssl_) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) want_ = Want::kWrite;
    return n;
  }
  size_t total = 0;
  for (int i = 0; i < count; ++i) {
    ssize_t n = write(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    if (n < 0) return total > 0 ? static_cast<ssize_t>(total) : -1;
    total += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < iov[i].iov_len) break;
  }
  return static_cast<ssize_t>(total);
}

void Transport::shutdown_write() {
  if (ssl_ && handshake_done_) {
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  if (fd_) ::shutdown(fd_.get(), SHUT_WR);
}

void Transport::close() {
  ssl_.reset();
  fd_.reset();
}

}  // namespace proxy::io
