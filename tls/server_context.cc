// SPDX-License-Identifier: MIT
#include "tls/server_context.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <set>

#include "tls/errors.h"
#include "tls/sni.h"
#include "tls/ticket_schedule.h"

namespace tls {
namespace {

using proxy::base::Expected;
using proxy::base::unexpected;

constexpr unsigned char kSessionIdContext[] = "gatehouse";

Expected<int, std::string> parse_min_version(const std::string& v) {
  if (v == "TLSv1.2") return TLS1_2_VERSION;
  if (v == "TLSv1.3") return TLS1_3_VERSION;
  return unexpected("tls min_version " + v + ": expected TLSv1.2 or TLSv1.3");
}

Expected<std::string, std::string> alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) return unexpected("tls alpn: bad protocol name '" + p + "'");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

ServerContext::~ServerContext() = default;

Expected<std::unique_ptr<ServerContext>, std::string> ServerContext::build(
    const conf::TlsConfig& config, std::time_t now, std::shared_ptr<TicketKeys> ticket_keys,
    const FileContents* files) {
  if (config.certificates.empty()) return unexpected(std::string("tls: no certificate"));
  auto min_version = parse_min_version(config.min_version);
  if (!min_version) return unexpected(min_version.error());
  auto wire = alpn_wire(config.alpn);
  if (!wire) return unexpected(wire.error());

  std::unique_ptr<ServerContext> sc(new ServerContext());
  sc->alpn_wire_ = std::move(*wire);
  if (!ticket_keys) {
    auto keys = TicketKeys::create();
    if (!keys) return unexpected(keys.error());
    ticket_keys = std::move(*keys);
  }
  sc->ticket_keys_ = std::move(ticket_keys);

  for (const conf::Certificate& c : config.certificates) {
    auto loaded = load_certificate(c, now, files);
    if (!loaded) return unexpected(loaded.error());
    sc->certs_.push_back(std::move(*loaded));
  }

  std::vector<std::set<KeyType>> ctx_key_types;
  for (size_t i = 0; i < sc->certs_.size(); ++i) {
    const LoadedCertificate& cert = sc->certs_[i];
    // An RSA and an ECDSA certificate for the same names share a context.
    size_t ctx_index = sc->ctxs_.size();
    for (size_t j = 0; j < i; ++j) {
      size_t candidate = sc->ctx_of_cert_[j];
      if (sorted(sc->certs_[j].names) == sorted(cert.names) && cert.key_type != KeyType::kOther &&
          !ctx_key_types[candidate].count(cert.key_type)) {
        ctx_index = candidate;
        break;
      }
    }
    if (ctx_index == sc->ctxs_.size()) {
      auto ctx = sc->new_ctx(*min_version);
      if (!ctx) return unexpected(ctx.error());
      sc->ctxs_.push_back(std::move(*ctx));
      ctx_key_types.emplace_back();
    }
    SSL_CTX* ctx = sc->ctxs_[ctx_index].get();
    bool ok = SSL_CTX_use_certificate(ctx, cert.leaf.get()) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, cert.key.get()) == 1;
    for (const X509Ptr& x : cert.chain) ok = ok && SSL_CTX_add1_chain_cert(ctx, x.get()) == 1;
    ok = ok && SSL_CTX_check_private_key(ctx) == 1;
    if (!ok) {
      ERR_clear_error();
      return unexpected("certificate " + config.certificates[i].cert + " (" + cert.subject +
                        "): refused by OpenSSL (key too weak for the security level?)");
    }
    ctx_key_types[ctx_index].insert(cert.key_type);
    sc->ctx_of_cert_.push_back(ctx_index);
  }
  return sc;
}

Expected<SslCtxPtr, std::string> ServerContext::new_ctx(int min_version) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return unexpected(error_with_queue("SSL_CTX_new"));
  SSL_CTX* c = ctx.get();
  bool ok =
      SSL_CTX_set_min_proto_version(c, min_version) == 1 &&
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) == 1 &&
      SSL_CTX_set_cipher_list(c, kTls12Ciphers) == 1 && SSL_CTX_set1_groups_list(c, kGroups) == 1 &&
      SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1) == 1 &&
      SSL_CTX_set_app_data(c, this) == 1 && ticket_keys_->install(c);
  if (!ok) return unexpected(error_with_queue("SSL_CTX setup"));
  // Server preference, but a client that lists ChaCha20 first (no AES hardware) gets it.
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  // The chain is what the operator gave (leaf first, then the chain): without NO_AUTO_CHAIN,
  // OpenSSL builds one from the store on every handshake of a certificate that has none.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
  // Resumption is by stateless tickets only: no per-process session cache to share or to grow.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  // A ticket lives no longer than its key stays in rotation (TicketSchedule), and one ticket per
  // handshake is enough for a client to resume: each costs an encryption on every new connection.
  SSL_CTX_set_timeout(c, static_cast<long>(kTicketPeriodSeconds));
  SSL_CTX_set_num_tickets(c, 1);
  SSL_CTX_set_tlsext_servername_callback(c, &ServerContext::on_servername);
  SSL_CTX_set_tlsext_servername_arg(c, this);
  if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(c, &ServerContext::on_alpn, this);
  SSL_CTX_set_tlsext_status_cb(c, &ServerContext::on_status);
  SSL_CTX_set_tlsext_status_arg(c, this);
  return ctx;
}

namespace {

// The SSL ex_data slot holding a std::shared_ptr to the ServerContext its callbacks point to.
void free_owner(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::shared_ptr<const ServerContext>*>(ptr);
}
int owner_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_owner);
  return index;
}

}  // namespace

SslPtr ServerContext::new_ssl() const {
  SslPtr ssl(SSL_new(default_ctx()));
  if (!ssl) return ssl;
  if (auto self = weak_from_this().lock()) {
    auto* owner = new std::shared_ptr<const ServerContext>(std::move(self));
    if (owner_index() < 0 || SSL_set_ex_data(ssl.get(), owner_index(), owner) != 1) {
      delete owner;
      return nullptr;
    }
  }
  return ssl;
}

std::vector<std::string> ServerContext::warnings() const {
  std::vector<std::string> out;
  for (const LoadedCertificate& c : certs_)
    if (!c.warning.empty()) out.push_back(c.warning);
  return out;
}

int ServerContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  size_t i = pick_certificate_index(self->certs_, name);
  SSL_CTX* ctx = self->ctxs_[self->ctx_of_cert_[i]].get();
  if (ctx != SSL_get_SSL_CTX(ssl) && !SSL_set_SSL_CTX(ssl, ctx)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

// RFC 7301 3.2 would answer no_application_protocol; instead the handshake goes on without ALPN
// so a client offering only unknown protocols still gets HTTP/1.1, as nginx and HAProxy do.
int ServerContext::on_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                           const unsigned char* in, unsigned int inlen, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  const auto* server = reinterpret_cast<const unsigned char*>(self->alpn_wire_.data());
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, server,
                            static_cast<unsigned int>(self->alpn_wire_.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Staples the configured OCSP response of the certificate OpenSSL chose, if it has one.
int ServerContext::on_status(SSL* ssl, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  X509* chosen = SSL_get_certificate(ssl);
  for (const LoadedCertificate& c : self->certs_) {
    if (c.leaf.get() != chosen || c.ocsp.empty()) continue;
    void* copy = OPENSSL_memdup(c.ocsp.data(), c.ocsp.size());
    if (!copy) return SSL_TLSEXT_ERR_NOACK;
    // OpenSSL takes ownership of |copy|.
    if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(c.ocsp.size())) != 1) {
      OPENSSL_free(copy);
      return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace tls
