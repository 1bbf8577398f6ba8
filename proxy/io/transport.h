// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "proxy/base/unique_fd.h"
#include "tls/handles.h"

namespace proxy::io {

// The byte stream under a client connection: a non-blocking socket, or TLS over one. Owns the
// socket and the SSL. Calls never block; the results follow read(2)/write(2):
//   > 0  bytes moved;  0  clean end (read only);  -1  errno set: EAGAIN when it must wait (then
//   want() says for which readiness), anything else is fatal for the connection.
// TLS calls go straight to SSL_read/SSL_write on the caller's memory (no filter layer).
//
// TLS write contract (OpenSSL's): after a write returned EAGAIN or fewer bytes than offered, the
// next write must offer the bytes not taken yet, starting at the same byte and at least as many
// (more may have been appended; the memory may have moved). A FIFO that drains only what was
// written, as BodyBuffer does, keeps it.
class Transport {
 public:
  enum class Want : uint8_t { kRead, kWrite };
  // One TLS record's worth of plaintext (RFC 8446 5.1): writes are gathered up to this.
  static constexpr size_t kRecordSize = 16 * 1024;

  Transport() = default;
  explicit Transport(int fd) : fd_(fd) {}
  // |ssl| becomes the server side of a handshake on |fd|.
  Transport(int fd, tls::SslPtr ssl);
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;

  int fd() const { return fd_.get(); }
  SSL* ssl() const { return ssl_.get(); }
  bool tls() const { return ssl_ != nullptr; }
  bool handshake_done() const { return !ssl_ || handshake_done_; }

  // TLS: advances the handshake: 1 done, 0 must wait (see want()), -1 failed (errno EPROTO, or
  // ECONNRESET when the peer went away; error() says why). Plain: always 1.
  int handshake();
  // The ALPN protocol the handshake chose ("" when none or plain).
  const unsigned char* alpn(unsigned& len) const;
  // Why the last TLS call failed (OpenSSL's reason), for logs; "" when unknown.
  const char* error() const { return error_ ? error_ : ""; }
  // The handshake failed because the client spoke plain HTTP: OpenSSL's record layer saw
  // "GET ", "POST ", "HEAD ", "PUT " or "CONNE" where the first record should be, and sent no
  // alert, so the socket is still clean for a plain-text answer.
  bool plain_http() const { return plain_http_; }

  ssize_t read(char* buf, size_t len);
  // Writes all of |buf| unless the socket fills up (then a short count, or -1 EAGAIN).
  ssize_t write(const char* buf, size_t len);
  // Writes the pieces in order; stops when the socket fills up. Over TLS, small pieces are
  // gathered with the next ones into full-size records.
  ssize_t writev(const iovec* iov, int count);

  // Plain sockets: the next writes are told more bytes follow at once (MSG_MORE), so the kernel
  // holds a partial segment until the next write without it, for 200 ms at most. TLS: ignored.
  void set_more(bool more) { more_ = more; }

  // Kernel TLS carries the sending side (OpenSSL moved the keys into the socket): files can then
  // go out with sendfile(). Never true for plain sockets (use sendfile(2) there directly).
  bool ktls_send() const;
  // Sends |len| bytes of the file |file_fd| from |offset| through kernel TLS. Results as write().
  ssize_t sendfile(int file_fd, uint64_t offset, size_t len);

  // After a read that returned fewer bytes than asked: true when the source is known to be
  // empty until the next readiness event (plain: a short read; TLS: OpenSSL asked for more bytes
  // and holds none decrypted). Edge-triggered callers stop reading only then.
  bool drained() const { return drained_; }
  // What an EAGAIN waits for. A TLS read may have to wait for writability and a write for
  // readability; plain sockets wait for the direction of the call.
  Want want() const { return want_; }

  // Sends close_notify (TLS, best effort, only on a healthy session) and shuts the write side.
  void shutdown_write();
  // Closes the socket (and frees the SSL) now.
  void close();

 private:
  ssize_t ssl_result(int ret);
  ssize_t ssl_write_all(const char* buf, size_t len);

  base::UniqueFd fd_;
  tls::SslPtr ssl_;
  const char* error_ = nullptr;  // a static OpenSSL reason string
  bool handshake_done_ = false;
  bool asked_ktls_ = false;
  bool failed_ = false;  // a fatal TLS error: OpenSSL forbids SSL_shutdown after one
  bool plain_http_ = false;
  bool more_ = false;
  bool drained_ = false;
  Want want_ = Want::kRead;
};

}  // namespace proxy::io
