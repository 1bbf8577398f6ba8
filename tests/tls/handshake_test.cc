// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <openssl/err.h>

#include <ctime>
#include <string>

#include "tests/tls/cert_factory.h"
#include "tls/errors.h"
#include "tls/server_context.h"

namespace tls {
namespace {

using gatehouse_test::TempDir;
using test::CertSpec;
using test::write_cert;

SslCtxPtr client_ctx(int min_version = TLS1_2_VERSION, int max_version = TLS1_3_VERSION) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

struct Result {
  SslPtr client;
  SslPtr server;
  bool ok = false;
  std::string failed_side;
  std::string error;

  std::string peer_cn() const {
    X509* peer = SSL_get0_peer_certificate(client.get());
    if (!peer) return "";
    char buf[256];
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
    return buf;
  }
  int peer_key_type() const {
    return EVP_PKEY_get_base_id(X509_get0_pubkey(SSL_get0_peer_certificate(client.get())));
  }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(client.get(), &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // Reads what the server sent after the handshake (TLS 1.3 tickets) and returns the session.
  SSL_SESSION* session() {
    char byte;
    SSL_read(client.get(), &byte, 1);
    ERR_clear_error();
    return SSL_get1_session(client.get());
  }
};

bool step(SSL* ssl, const char* side, Result& r, bool& done) {
  int rc = SSL_do_handshake(ssl);
  if (rc == 1) {
    done = true;
    return true;
  }
  int e = SSL_get_error(ssl, rc);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
  r.failed_side = side;
  r.error = drain_errors();
  return false;
}

// A full handshake between a client and |server| over an in-memory BIO pair.
Result connect(const ServerContext& server, SSL_CTX* cctx, const char* sni = nullptr,
               std::string alpn_wire = std::string("\x02h2\x08http/1.1", 12),
               SSL_SESSION* resume = nullptr) {
  Result r;
  r.client.reset(SSL_new(cctx));
  r.server = server.new_ssl();
  BIO* c_bio = nullptr;
  BIO* s_bio = nullptr;
  BIO_new_bio_pair(&c_bio, 0, &s_bio, 0);
  SSL_set_bio(r.client.get(), c_bio, c_bio);
  SSL_set_bio(r.server.get(), s_bio, s_bio);
  SSL_set_connect_state(r.client.get());
  SSL_set_accept_state(r.server.get());
  if (sni) SSL_set_tlsext_host_name(r.client.get(), sni);
  if (!alpn_wire.empty())
    SSL_set_alpn_protos(r.client.get(), reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                        static_cast<unsigned int>(alpn_wire.size()));
  if (resume) SSL_set_session(r.client.get(), resume);
  SSL_set_tlsext_status_type(r.client.get(), TLSEXT_STATUSTYPE_ocsp);
  bool c_done = false, s_done = false;
  for (int i = 0; i < 50 && !(c_done && s_done); ++i) {
    if (!step(r.client.get(), "client", r, c_done)) return r;
    if (!step(r.server.get(), "server", r, s_done)) return r;
  }
  r.ok = c_done && s_done;
  return r;
}

struct Site {
  TempDir dir;
  conf::TlsConfig config;
  Site() {
    config.certificates.push_back(write_cert(dir, "default", {"default.test", "DNS:default.test"}));
    config.certificates.push_back(
        write_cert(dir, "org", {"example.org", "DNS:www.example.org,DNS:*.example.org", true}));
  }
  std::unique_ptr<ServerContext> build(std::shared_ptr<TicketKeys> keys = nullptr) const {
    auto sc = ServerContext::build(config, std::time(nullptr), std::move(keys));
    REQUIRE_MESSAGE(sc.has_value(), (sc ? "" : sc.error()));
    return std::move(*sc);
  }
};

TEST_CASE("a handshake serves the certificate named by SNI and h2 by ALPN") {
  Site site;
  auto server = site.build();
  auto cctx = client_ctx();
  SUBCASE("wildcard name") {
    auto r = connect(*server, cctx.get(), "api.example.org");
    REQUIRE_MESSAGE(r.ok, r.failed_side << ": " << r.error);
    CHECK(r.peer_cn() == "example.org");
    CHECK(r.peer_key_type() == EVP_PKEY_RSA);
    CHECK(r.alpn() == "h2");
    CHECK(SSL_version(r.server.get()) == TLS1_3_VERSION);
  }
  SUBCASE("no SNI: the first certificate") {
    auto r = connect(*server, cctx.get());
    REQUIRE(r.ok);
    CHECK(r.peer_cn() == "default.test");
  }
  SUBCASE("unknown name: the first certificate") {
    auto r = connect(*server, cctx.get(), "unknown.test");
    REQUIRE(r.ok);
    CHECK(r.peer_cn() == "default.test");
  }
  SUBCASE("a client offering only http/1.1 gets it") {
    auto r = connect(*server, cctx.get(), "www.example.org", std::string("\x08http/1.1", 9));
    REQUIRE(r.ok);
    CHECK(r.alpn() == "http/1.1");
  }
  SUBCASE("no common protocol: no ALPN, the handshake still succeeds") {
    auto r = connect(*server, cctx.get(), "www.example.org", std::string("\x06spdy/3", 7));
    REQUIRE(r.ok);
    CHECK(r.alpn().empty());
  }
  SUBCASE("TLS 1.2 with a forward-secret AEAD suite") {
    auto c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    auto r = connect(*server, c12.get(), "www.example.org");
    REQUIRE(r.ok);
    CHECK(std::string(SSL_get_cipher_name(r.server.get())) == "ECDHE-RSA-AES128-GCM-SHA256");
  }
}

TEST_CASE("versions below min_version are refused by the server") {
  Site site;
  SUBCASE("TLS 1.1 against TLSv1.2") {
    auto server = site.build();
    auto c11 = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
    SSL_CTX_set_security_level(c11.get(), 0);
    SSL_CTX_set_cipher_list(c11.get(), "DEFAULT:@SECLEVEL=0");
    auto r = connect(*server, c11.get(), "www.example.org");
    CHECK_FALSE(r.ok);
    CHECK(r.failed_side == "server");
    CHECK(r.error.find("unsupported protocol") != std::string::npos);
  }
  SUBCASE("TLS 1.2 against TLSv1.3") {
    site.config.min_version = "TLSv1.3";
    auto server = site.build();
    auto c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    auto r = connect(*server, c12.get(), "www.example.org");
    CHECK_FALSE(r.ok);
    CHECK(r.failed_side == "server");
  }
}

TEST_CASE("a session resumes with a ticket, across rotation and rebuilds sharing the keys") {
  Site site;
  auto keys = TicketKeys::create();
  REQUIRE(keys.has_value());
  auto server = site.build(*keys);
  int version = TLS1_3_VERSION;
  SUBCASE("TLS 1.3") {
    version = TLS1_3_VERSION;
  }
  SUBCASE("TLS 1.2") {
    version = TLS1_2_VERSION;
  }
  auto cctx = client_ctx(version, version);

  auto first = connect(*server, cctx.get(), "www.example.org");
  REQUIRE(first.ok);
  CHECK_FALSE(SSL_session_reused(first.server.get()));
  SSL_SESSION* session = first.session();
  REQUIRE(session);
  CHECK(SSL_SESSION_has_ticket(session));

  auto again = connect(*server, cctx.get(), "www.example.org", std::string("\x02h2", 3), session);
  REQUIRE(again.ok);
  CHECK(SSL_session_reused(again.client.get()));
  CHECK(SSL_session_reused(again.server.get()));

  (*keys)->rotate();
  auto reloaded = site.build(*keys);
  auto after_one = connect(*reloaded, cctx.get(), "www.example.org", "", session);
  REQUIRE(after_one.ok);
  CHECK(SSL_session_reused(after_one.server.get()));

  (*keys)->rotate();
  auto after_two = connect(*reloaded, cctx.get(), "www.example.org", "", session);
  REQUIRE(after_two.ok);
  CHECK_FALSE(SSL_session_reused(after_two.server.get()));
  SSL_SESSION_free(session);
}

TEST_CASE("the configured OCSP response is stapled for its certificate only") {
  Site site;
  std::string der = test::ocsp_der(site.config.certificates[1]);
  site.config.certificates[1].ocsp_staple = site.dir.write("org.der", der);
  auto server = site.build();
  auto cctx = client_ctx();
  auto stapled = connect(*server, cctx.get(), "www.example.org");
  REQUIRE(stapled.ok);
  const unsigned char* p = nullptr;
  long n = SSL_get_tlsext_status_ocsp_resp(stapled.client.get(), &p);
  REQUIRE(n > 0);
  CHECK(std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) == der);

  auto plain = connect(*server, cctx.get(), "default.test");
  REQUIRE(plain.ok);
  CHECK(SSL_get_tlsext_status_ocsp_resp(plain.client.get(), &p) == -1);
}

TEST_CASE("an RSA and an ECDSA certificate for the same names share one context") {
  TempDir dir;
  conf::TlsConfig config;
  config.certificates.push_back(write_cert(dir, "ec", {"both.test", "DNS:both.test", false}));
  config.certificates.push_back(write_cert(dir, "rsa", {"both.test", "DNS:both.test", true}));
  auto server = ServerContext::build(config, std::time(nullptr));
  REQUIRE(server.has_value());
  auto cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
  SUBCASE("an RSA-only client gets the RSA certificate") {
    SSL_CTX_set_cipher_list(cctx.get(), "ECDHE-RSA-AES128-GCM-SHA256");
    auto r = connect(**server, cctx.get(), "both.test");
    REQUIRE(r.ok);
    CHECK(r.peer_key_type() == EVP_PKEY_RSA);
  }
  SUBCASE("an ECDSA-capable client gets the ECDSA certificate") {
    auto r = connect(**server, cctx.get(), "both.test");
    REQUIRE(r.ok);
    CHECK(r.peer_key_type() == EVP_PKEY_EC);
  }
}

TEST_CASE("build refuses a bad TLS configuration") {
  Site site;
  std::time_t now = std::time(nullptr);
  SUBCASE("no certificate") {
    conf::TlsConfig empty;
    CHECK_FALSE(ServerContext::build(empty, now).has_value());
  }
  SUBCASE("unknown min_version") {
    site.config.min_version = "TLSv1.1";
    CHECK_FALSE(ServerContext::build(site.config, now).has_value());
  }
  SUBCASE("empty ALPN protocol name") {
    site.config.alpn = {"h2", ""};
    CHECK_FALSE(ServerContext::build(site.config, now).has_value());
  }
  SUBCASE("a bad certificate anywhere in the list") {
    site.config.certificates[1].key = site.config.certificates[0].key;
    auto r = ServerContext::build(site.config, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().find("does not match") != std::string::npos);
  }
  SUBCASE("warnings are collected") {
    site.config.certificates.push_back(
        write_cert(site.dir, "soon", {"soon.test", "DNS:soon.test", false, -3600, 3L * 86400}));
    auto r = ServerContext::build(site.config, now);
    REQUIRE(r.has_value());
    CHECK((*r)->warnings().size() == 1);
  }
}

}  // namespace
}  // namespace tls
