// SPDX-License-Identifier: MIT
#pragma once

#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "tls/certificate.h"
#include "tls/handles.h"
#include "tls/ticket_keys.h"

namespace tls {

// TLS 1.2 suites: ECDHE (forward secrecy) with AEAD only. TLS 1.3 keeps OpenSSL's default suites.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kGroups = "X25519:P-256:P-384";

// The server side of one TLS listener: an SSL_CTX per certificate (an RSA and an ECDSA certificate
// with the same names share one, and OpenSSL picks by the client's signature algorithms), SNI
// switching (pick_certificate), ALPN in server preference order, OCSP stapling and session tickets.
// Immutable once built; a reload builds a new one and hands it the same TicketKeys.
//
// Lifetime: every SSL made by new_ssl() points back at this object from its callbacks. Once the
// object is owned by a std::shared_ptr (made from the unique_ptr build() returns), each SSL holds
// a reference to it, so a reload may drop the context while handshakes on it are under way.
class ServerContext : public std::enable_shared_from_this<ServerContext> {
 public:
  // Loads every certificate of |config| as of |now| (load_certificate) and builds the contexts.
  // |ticket_keys| null: fresh random keys. |files| non-null: the certificates' files as read by
  // read_certificate_files (load_certificate).
  static proxy::base::Expected<std::unique_ptr<ServerContext>, std::string> build(
      const conf::TlsConfig& config, std::time_t now,
      std::shared_ptr<TicketKeys> ticket_keys = nullptr, const FileContents* files = nullptr);

  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;
  ~ServerContext();

  // A new server-side SSL on the default certificate's context; SNI may switch it during the
  // handshake. Null on allocation failure. The caller attaches the transport.
  SslPtr new_ssl() const;

  SSL_CTX* default_ctx() const { return ctxs_.front().get(); }
  const std::vector<LoadedCertificate>& certificates() const { return certs_; }
  // Non-fatal findings of load_certificate (near expiry), for `gatehouse check` and the log.
  std::vector<std::string> warnings() const;
  const std::shared_ptr<TicketKeys>& ticket_keys() const { return ticket_keys_; }

 private:
  ServerContext() = default;

  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void* arg);
  static int on_status(SSL* ssl, void* arg);

  proxy::base::Expected<SslCtxPtr, std::string> new_ctx(int min_version);

  std::vector<LoadedCertificate> certs_;
  std::vector<SslCtxPtr> ctxs_;
  std::vector<size_t> ctx_of_cert_;  // certs_[i] is served by ctxs_[ctx_of_cert_[i]]
  std::string alpn_wire_;            // RFC 7301 3.1 protocol list, server preference order
  std::shared_ptr<TicketKeys> ticket_keys_;
};

}  // namespace tls
