// SPDX-License-Identifier: MIT
// io::Transport over a socketpair: the server side of TLS as connections use it, against an
// OpenSSL client on the other end (certificates made at run time).
#include "proxy/io/transport.h"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "proxy/io/body_buffer.h"
#include "tests/tls/cert_factory.h"
#include "tls/server_context.h"

namespace {

using proxy::io::Transport;

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// A server Transport on one end of a socketpair and an OpenSSL client on the other.
struct TlsPair {
  gatehouse_test::TempDir dir;
  std::unique_ptr<tls::ServerContext> server_ctx;
  tls::SslCtxPtr client_ctx{SSL_CTX_new(TLS_client_method())};
  tls::SslPtr client;
  proxy::base::UniqueFd client_fd;
  Transport server;
  std::vector<size_t> records;  // lengths of the records the server wrote, as on the wire

  explicit TlsPair(const char* alpn_wire = "\x08http/1.1", int max_version = TLS1_3_VERSION) {
    conf::TlsConfig cfg;
    cfg.certificates.push_back(tls::test::write_cert(dir, "site", {"site.test", "DNS:site.test"}));
    auto sc = tls::ServerContext::build(cfg, std::time(nullptr));
    REQUIRE_MESSAGE(sc.has_value(), (sc ? "" : sc.error()));
    server_ctx = std::move(*sc);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    server = Transport(fds[0], server_ctx->new_ssl());
    SSL_set_msg_callback(server.ssl(), &TlsPair::on_message);
    SSL_set_msg_callback_arg(server.ssl(), this);
    client_fd.reset(fds[1]);
    SSL_CTX_set_max_proto_version(client_ctx.get(), max_version);
    client.reset(SSL_new(client_ctx.get()));
    SSL_set_fd(client.get(), fds[1]);
    SSL_set_connect_state(client.get());
    SSL_set_tlsext_host_name(client.get(), "site.test");
    SSL_set_alpn_protos(client.get(), reinterpret_cast<const unsigned char*>(alpn_wire),
                        static_cast<unsigned>(strlen(alpn_wire)));
  }

  static void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL*,
                         void* arg) {
    if (!write_p || content_type != SSL3_RT_HEADER || len < 5) return;
    auto* p = static_cast<const unsigned char*>(buf);
    static_cast<TlsPair*>(arg)->records.push_back(static_cast<size_t>(p[3] << 8 | p[4]));
  }

  bool handshake() {
    bool client_done = false;
    for (int i = 0; i < 100; ++i) {
      if (!client_done) {
        int r = SSL_do_handshake(client.get());
        if (r == 1) client_done = true;
        int e = SSL_get_error(client.get(), r);
        if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
      }
      int s = server.handshake();
      if (s < 0) return false;
      if (s == 1 && client_done) {
        records.clear();
        return true;
      }
    }
    return false;
  }

  void client_write(const std::string& data) {
    size_t n = 0;
    REQUIRE(SSL_write_ex(client.get(), data.data(), data.size(), &n) == 1);
    REQUIRE(n == data.size());
  }

  // Everything the client can decrypt now.
  std::string client_read() {
    std::string out;
    char buf[65536];
    for (;;) {
      size_t n = 0;
      if (SSL_read_ex(client.get(), buf, sizeof buf, &n) != 1) break;
      out.append(buf, n);
    }
    ERR_clear_error();
    return out;
  }
};

TEST_CASE(
    "a TLS transport handshakes, then reads what the client sent and says when it is drained") {
  TlsPair t;
  REQUIRE(t.handshake());
  CHECK(t.server.handshake_done());
  t.client_write("hello");
  char buf[100];
  CHECK(t.server.read(buf, sizeof buf) == 5);
  CHECK(std::string(buf, 5) == "hello");
  CHECK(t.server.drained());
  CHECK(t.server.read(buf, sizeof buf) == -1);
  CHECK(errno == EAGAIN);
  CHECK(t.server.want() == Transport::Want::kRead);
}

TEST_CASE("bytes decrypted beyond a small read stay readable: the transport is not drained") {
  TlsPair t;
  REQUIRE(t.handshake());
  const std::string sent = pattern(10000);
  t.client_write(sent);  // one record
  std::string got(20000, '\0');
  REQUIRE(t.server.read(got.data(), 100) == 100);
  // The socket is empty now, but OpenSSL holds the rest of the record: an edge-triggered reader
  // that stopped here would wait for an event that never comes.
  CHECK_FALSE(t.server.drained());
  REQUIRE(t.server.read(got.data() + 100, 19900) == 9900);
  CHECK(t.server.drained());
  CHECK(got.substr(0, 10000) == sent);
}

TEST_CASE("small pieces are gathered into full-size records") {
  TlsPair t;
  REQUIRE(t.handshake());
  std::string data = pattern(40000);
  std::vector<iovec> iov;
  for (size_t off = 0; off < data.size(); off += 1000) iov.push_back({data.data() + off, 1000});
  CHECK(t.server.writev(iov.data(), static_cast<int>(iov.size())) == 40000);
  CHECK(t.client_read() == data);
  // TLS 1.3 records carry 17 bytes more than their plaintext (content type, tag).
  REQUIRE(t.records.size() == 3);
  CHECK(t.records[0] == Transport::kRecordSize + 17);
  CHECK(t.records[1] == Transport::kRecordSize + 17);
}

TEST_CASE("pieces of a few KiB go out where they lie, one record each, without a copy") {
  TlsPair t;
  REQUIRE(t.handshake());
  std::string data = pattern(30000);
  iovec iov[3] = {{data.data(), 10000}, {data.data() + 10000, 10000}, {data.data() + 20000, 10000}};
  CHECK(t.server.writev(iov, 3) == 30000);
  CHECK(t.client_read() == data);
  CHECK(t.records == std::vector<size_t>{10017, 10017, 10017});
}

TEST_CASE("a big piece goes out in full records, a short count when the socket fills up") {
  TlsPair t;
  REQUIRE(t.handshake());
  const std::string data = pattern(4 << 20);
  std::string got;
  size_t sent = 0;
  int short_counts = 0;
  while (sent < data.size()) {
    // Offer what is left, as a FIFO does: the retried bytes start where the last count ended.
    iovec iov[2] = {{const_cast<char*>(data.data()) + sent, 300},
                    {const_cast<char*>(data.data()) + sent + 300, data.size() - sent - 300}};
    if (data.size() - sent <= 300) iov[0].iov_len = data.size() - sent, iov[1].iov_len = 0;
    ssize_t n = t.server.writev(iov, 2);
    if (n < 0) {
      REQUIRE(errno == EAGAIN);
      CHECK(t.server.want() == Transport::Want::kWrite);
    } else {
      sent += static_cast<size_t>(n);
      if (sent < data.size()) ++short_counts;
    }
    got += t.client_read();
  }
  got += t.client_read();
  CHECK(short_counts > 0);
  CHECK(got.size() == data.size());
  CHECK(got == data);
  size_t full = 0;
  for (size_t len : t.records) full += len == Transport::kRecordSize + 17;
  CHECK(full >= t.records.size() - 1);  // only the very last one is short
}

TEST_CASE("a spilled body leaves a BodyBuffer over TLS whole") {
  TlsPair t;
  REQUIRE(t.handshake());
  proxy::io::BodyBuffer out;
  out.configure(64 * 1024, 64 << 20, t.dir.c_str());
  const std::string data = pattern(3 << 20);
  REQUIRE(out.append(data.data(), data.size()));
  REQUIRE(out.file_size() > 0);
  std::string got;
  while (!out.empty()) {
    ssize_t n = out.write_to(t.server);
    REQUIRE((n >= 0 || errno == EAGAIN));
    got += t.client_read();
  }
  got += t.client_read();
  CHECK(got == data);
  CHECK_FALSE(t.server.ktls_send());  // a socketpair never has kernel TLS: the copy path ran
}

TEST_CASE("ALPN picks h2 when the client offers it") {
  TlsPair t("\x02h2\x08http/1.1");
  REQUIRE(t.handshake());
  unsigned len = 0;
  const unsigned char* p = t.server.alpn(len);
  CHECK(std::string(reinterpret_cast<const char*>(p), len) == "h2");
}

TEST_CASE("shutdown_write sends close_notify: the client sees a clean end") {
  TlsPair t;
  REQUIRE(t.handshake());
  REQUIRE(t.server.write("bye", 3) == 3);
  t.server.shutdown_write();
  char buf[16];
  size_t n = 0;
  REQUIRE(SSL_read_ex(t.client.get(), buf, sizeof buf, &n) == 1);
  CHECK(std::string(buf, n) == "bye");
  int r = SSL_read_ex(t.client.get(), buf, sizeof buf, &n);
  CHECK(SSL_get_error(t.client.get(), r) == SSL_ERROR_ZERO_RETURN);
}

TEST_CASE("the client's close_notify reads as the end") {
  TlsPair t;
  REQUIRE(t.handshake());
  SSL_shutdown(t.client.get());
  char buf[16];
  CHECK(t.server.read(buf, sizeof buf) == 0);
}

TEST_CASE("bytes that are not a ClientHello fail the handshake") {
  TlsPair t;
  const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(t.client_fd.get(), garbage, sizeof garbage - 1, 0) > 0);
  CHECK(t.server.handshake() == -1);
  CHECK(errno == EPROTO);
  CHECK(std::string(t.server.error()) != "");
  t.server.shutdown_write();  // no close_notify after a fatal error, and no crash
}

TEST_CASE("a handshake waits for the client's bytes") {
  TlsPair t;
  CHECK(t.server.handshake() == 0);
  CHECK(errno == EAGAIN);
  CHECK(t.server.want() == Transport::Want::kRead);
  CHECK_FALSE(t.server.handshake_done());
}

TEST_CASE("a plain transport: a short read means the socket is drained") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  proxy::base::UniqueFd peer(fds[1]);
  Transport plain(fds[0]);
  CHECK_FALSE(plain.tls());
  CHECK(plain.handshake() == 1);
  REQUIRE(::send(fds[1], "abc", 3, 0) == 3);
  char buf[10];
  CHECK(plain.read(buf, sizeof buf) == 3);
  CHECK(plain.drained());
  CHECK_FALSE(plain.ktls_send());
}

}  // namespace
