// SPDX-License-Identifier: MIT
#include "proxy/io/transport.h"

#include <openssl/err.h>
#include <openssl/sslerr.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "proxy/base/log.h"

namespace proxy::io {
namespace {

// Pieces under this are copied into a record with the ones that follow them.
constexpr size_t kGatherBelow = 4096;

// Cleared by the first handshake that asked for kernel TLS and did not get it: a kernel without
// the tls module answers every TCP_ULP attempt with a failed module load, which costs time on
// each new connection for nothing.
std::atomic<bool> g_try_ktls{true};

// Whether the socket read OpenSSL made during the current SSL_read returned fewer bytes than it
// asked for, i.e. the kernel had nothing more. Set by a callback on the socket BIO, read right
// after the call on the same thread; it spares the read that would only say EAGAIN.
thread_local bool t_short_recv = false;

long on_socket_bio(BIO*, int oper, const char*, size_t len, int, long, int ret, size_t* done) {
  if (oper == (BIO_CB_READ | BIO_CB_RETURN)) t_short_recv = ret > 0 && done && *done < len;
  return ret;
}

}  // namespace

Transport::Transport(int fd, tls::SslPtr ssl) : fd_(fd), ssl_(std::move(ssl)) {
  SSL_set_fd(ssl_.get(), fd);
  BIO_set_callback_ex(SSL_get_rbio(ssl_.get()), on_socket_bio);
  SSL_set_accept_state(ssl_.get());
  // Retried writes may come from a buffer that moved (an evbuffer that grew); partial writes let
  // a big write return after each record instead of holding the whole buffer.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // One recv per burst of records instead of two per record (header, then body).
  SSL_set_read_ahead(ssl_.get(), 1);
  // Kernel TLS when the kernel has it (the tls module): spill files then leave with sendfile.
  // Without it OpenSSL notices at the end of the handshake and keeps the keys to itself.
  if (g_try_ktls.load(std::memory_order_relaxed)) {
    SSL_set_options(ssl_.get(), SSL_OP_ENABLE_KTLS);
    asked_ktls_ = true;
  }
}

// Turns an SSL_* result into the read(2)-style contract. The error queue is emptied on every
// failure so that SSL_get_error stays meaningful for the next call on this thread.
ssize_t Transport::ssl_result(int ret) {
  const int saved_errno = errno;
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
      failed_ = true;
      error_ = "connection closed or reset";
      errno = saved_errno == 0 || saved_errno == EAGAIN ? ECONNRESET : saved_errno;
      return -1;
    default: {
      const unsigned long e = ERR_peek_last_error();
      const char* reason = ERR_reason_error_string(e);
      error_ = reason ? reason : "TLS error";
      // Read here, on the failure path, so that telling plain HTTP apart costs a good handshake
      // nothing (no peek at the socket).
      plain_http_ =
          ERR_GET_LIB(e) == ERR_LIB_SSL && (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST ||
                                            ERR_GET_REASON(e) == SSL_R_HTTPS_PROXY_REQUEST);
      ERR_clear_error();
      failed_ = true;
      errno = EPROTO;
      return -1;
    }
  }
}

int Transport::handshake() {
  if (handshake_done()) return 1;
  errno = 0;
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    handshake_done_ = true;
    if (asked_ktls_ && !BIO_get_ktls_send(SSL_get_wbio(ssl_.get())) &&
        g_try_ktls.exchange(false, std::memory_order_relaxed))
      LOG_INFO("kernel TLS is not available; TLS records are made in user space");
    return 1;
  }
  if (ssl_result(r) < 0 && errno == EAGAIN) return 0;
  if (errno != ECONNRESET) errno = EPROTO;
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
    errno = 0;
    t_short_recv = false;
    int r = SSL_read_ex(ssl_.get(), buf + got, len - got, &n);
    if (r == 1) {
      got += n;
      // The kernel's bytes are all read and OpenSSL holds none: as empty as an EAGAIN would say.
      if (t_short_recv && !SSL_has_pending(ssl_.get())) {
        drained_ = true;
        break;
      }
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

// With partial writes OpenSSL returns after each record; going on until the socket is full keeps
// the send(2) meaning of a short count.
ssize_t Transport::ssl_write_all(const char* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    size_t n = 0;
    errno = 0;
    if (SSL_write_ex(ssl_.get(), buf + done, len - done, &n) == 1) {
      done += n;
      continue;
    }
    ssize_t res = ssl_result(0);
    if (done > 0) return static_cast<ssize_t>(done);  // an error shows again at the next call
    if (res == 0) errno = EPIPE;                      // close_notify received: no more writing
    return -1;
  }
  return static_cast<ssize_t>(done);
}

ssize_t Transport::write(const char* buf, size_t len) {
  if (!ssl_) {
    ssize_t n = ::send(fd_.get(), buf, len, MSG_NOSIGNAL | (more_ ? MSG_MORE : 0));
    if (n < 0) want_ = Want::kWrite;
    return n;
  }
  if (len == 0) return 0;
  return ssl_write_all(buf, len);
}

ssize_t Transport::writev(const iovec* iov, int count) {
  if (!ssl_) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | (more_ ? MSG_MORE : 0));
    if (n < 0) want_ = Want::kWrite;
    return n;
  }
  // A record per small piece (a response head, a short buffer chain) would cost a header, a tag,
  // an encryption call and a segment each: a small piece is gathered with what follows it into
  // one full record. Larger pieces go to SSL_write where they lie, never copied. Gathering is a
  // function of the pieces, which only grow at the end, so a retry after EAGAIN offers the same
  // leading bytes again, and no fewer (the write contract above).
  char gather[kRecordSize];
  size_t total = 0;
  int i = 0;
  size_t off = 0;  // into iov[i]
  while (i < count) {
    const size_t left = iov[i].iov_len - off;
    if (left == 0) {
      ++i;
      off = 0;
      continue;
    }
    const char* src = static_cast<const char*>(iov[i].iov_base) + off;
    size_t len = left;
    if (left < kGatherBelow && i + 1 < count) {
      len = 0;
      for (int j = i; j < count && len < kRecordSize; ++j) {
        const size_t from = j == i ? off : 0;
        size_t take = iov[j].iov_len - from;
        if (take > kRecordSize - len) take = kRecordSize - len;
        memcpy(gather + len, static_cast<const char*>(iov[j].iov_base) + from, take);
        len += take;
      }
      src = gather;
    }
    ssize_t n = ssl_write_all(src, len);
    if (n < 0) return total > 0 ? static_cast<ssize_t>(total) : -1;
    total += static_cast<size_t>(n);
    for (size_t adv = static_cast<size_t>(n); adv > 0 && i < count;) {
      const size_t rest = iov[i].iov_len - off;
      if (adv < rest) {
        off += adv;
        break;
      }
      adv -= rest;
      ++i;
      off = 0;
    }
    if (static_cast<size_t>(n) < len) break;
  }
  return static_cast<ssize_t>(total);
}

bool Transport::ktls_send() const {
  return ssl_ && handshake_done_ && BIO_get_ktls_send(SSL_get_wbio(ssl_.get()));
}

ssize_t Transport::sendfile(int file_fd, uint64_t offset, size_t len) {
  errno = 0;
  ossl_ssize_t n = SSL_sendfile(ssl_.get(), file_fd, static_cast<off_t>(offset), len, 0);
  if (n >= 0) return static_cast<ssize_t>(n);
  ssize_t res = ssl_result(static_cast<int>(n));
  if (res == 0) errno = EPIPE;
  return -1;
}

void Transport::shutdown_write() {
  if (ssl_ && handshake_done_ && !failed_) {
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
