// SPDX-License-Identifier: MIT
// build_request_head: what the backend receives for a client's request head (RFC 9110 7.6).
#include "proxy/upstream/request_head.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/downstream/http1_connection.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/io/socket_address.h"
#include "tests/proxy/test_util.h"

using proxy::Exchange;
using proxy::io::HeadBuilder;

namespace {

// A downstream connection that exists only so an Exchange can point at it: an event loop
// listening on nothing, and a connection on one end of a socketpair that never receives a byte.
class Downstream {
 public:
  Downstream()
      : runtime_(proxy::test::make_runtime({})), loop_(runtime_, {}, shared_), listener_{"web"} {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    peer_end_.reset(fds[1]);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(50000);
    inet_pton(AF_INET, "192.0.2.7", &peer.sin_addr);
    conn_ = new proxy::Http1Connection(loop_, fds[0], reinterpret_cast<sockaddr*>(&peer),
                                       sizeof peer, listener_);
    conn_->start();
  }
  // A drain serves a fresh connection's first request: the peer's close is what ends it (it
  // closes and frees itself).
  ~Downstream() {
    conn_->drain();
    peer_end_.reset();
    for (int i = 0; i < 10; ++i) event_base_loop(loop_.base(), EVLOOP_NONBLOCK);
  }
  Downstream(const Downstream&) = delete;
  Downstream& operator=(const Downstream&) = delete;

  proxy::Http1Connection* connection() { return conn_; }

 private:
  std::shared_ptr<const proxy::Runtime> runtime_;
  proxy::WorkerShared shared_;
  proxy::EventLoop loop_;
  proxy::ListenerRef listener_;
  proxy::base::UniqueFd peer_end_;
  proxy::Http1Connection* conn_ = nullptr;
};

// An exchange for the request head `text`, as the downstream connection sets it up.
struct TestExchange {
  std::string buf;  // the parsed head's views point here
  std::unique_ptr<Exchange> ex = std::make_unique<Exchange>();
};

std::unique_ptr<TestExchange> exchange_for(Downstream& d, std::string text,
                                           uint64_t body_size = 0) {
  auto t = std::make_unique<TestExchange>();
  t->buf = std::move(text);
  auto parsed = proxy::http::parse_request_head(t->buf.data(), t->buf.size(), {}, t->ex->request);
  REQUIRE(parsed);
  t->ex->downstream = d.connection();
  t->ex->client_ip_len = static_cast<uint8_t>(
      d.connection()->format_client_ip(t->ex->client_ip, sizeof t->ex->client_ip));
  t->ex->request_body_size = body_size;
  return t;
}

std::string build(const TestExchange& t) {
  std::vector<char> buf(8192);
  HeadBuilder out(buf.data(), buf.size());
  proxy::build_request_head(*t.ex, out);
  REQUIRE(out.ok());
  return std::string(out.view());
}

std::string get(const std::string& fields) {
  return "GET /p HTTP/1.1\r\nHost: example.com\r\n" + fields + "\r\n";
}

bool has_line(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

bool has_field(const std::string& head, const std::string& name) {
  return head.find("\r\n" + name + ":") != std::string::npos;
}

}  // namespace

TEST_CASE("a plain GET goes out as HTTP/1.1 with Host, forwarding fields and Via") {
  Downstream d;
  auto t = exchange_for(d, get("Accept: */*\r\n"));
  CHECK(build(*t) ==
        "GET /p HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "Accept: */*\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: example.com\r\n"
        "Via: 1.1 gatehouse\r\n"
        "\r\n");
}

TEST_CASE("the normalized path and the query are sent") {
  Downstream d;
  auto t = exchange_for(d, "GET /a/./b/../%7Ec?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(build(*t).rfind("GET /a/~c?x=1&y HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("OPTIONS * keeps its asterisk target") {
  Downstream d;
  auto t = exchange_for(d, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(build(*t).rfind("OPTIONS * HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("hop-by-hop fields and those named in Connection are not forwarded") {
  Downstream d;
  auto t = exchange_for(d, get("Connection: keep-alive, X-Private\r\n"
                               "Keep-Alive: timeout=5\r\n"
                               "TE: trailers\r\n"
                               "Upgrade: websocket\r\n"
                               "Proxy-Connection: keep-alive\r\n"
                               "X-Private: secret\r\n"
                               "X-Public: shown\r\n"));
  const std::string head = build(*t);
  CHECK(has_line(head, "X-Public: shown"));
  for (const char* name :
       {"Connection", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection", "X-Private"}) {
    CAPTURE(name);
    CHECK_FALSE(has_field(head, name));
  }
}

TEST_CASE("options named on a second Connection line are not forwarded either") {
  Downstream d;
  auto t = exchange_for(d, get("Connection: keep-alive\r\n"
                               "X-First: 1\r\n"
                               "Connection: X-First, X-Second\r\n"
                               "X-Second: 2\r\n"
                               "X-Public: shown\r\n"));
  const std::string head = build(*t);
  CHECK(has_line(head, "X-Public: shown"));
  CHECK_FALSE(has_field(head, "X-First"));
  CHECK_FALSE(has_field(head, "X-Second"));
}

TEST_CASE("X-Forwarded-For is appended to; the client's X-Forwarded-Proto and -Host are replaced") {
  Downstream d;
  auto t = exchange_for(d, get("X-Forwarded-For: 203.0.113.1\r\n"
                               "X-Forwarded-Proto: https\r\n"
                               "X-Forwarded-Host: evil.example\r\n"));
  const std::string head = build(*t);
  CHECK(has_line(head, "X-Forwarded-For: 203.0.113.1, 192.0.2.7"));
  CHECK(has_line(head, "X-Forwarded-Proto: http"));
  CHECK(has_line(head, "X-Forwarded-Host: example.com"));
  CHECK(head.find("https") == std::string::npos);
  CHECK(head.find("evil.example") == std::string::npos);
}

// RFC 9110 5.3: repeated lines form one list, in order.
TEST_CASE("several X-Forwarded-For lines are joined, in order, before the client's IP") {
  Downstream d;
  auto t = exchange_for(d, get("X-Forwarded-For: 203.0.113.1\r\n"
                               "X-Forwarded-For: 203.0.113.2\r\n"));
  CHECK(has_line(build(*t), "X-Forwarded-For: 203.0.113.1, 203.0.113.2, 192.0.2.7"));
}

TEST_CASE("a request body is announced with its decoded length, never as chunked") {
  Downstream d;
  SUBCASE("chunked from the client") {
    auto t = exchange_for(d,
                          "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                          "Expect: 100-continue\r\n\r\n",
                          12345);
    const std::string head = build(*t);
    CHECK(has_line(head, "Content-Length: 12345"));
    CHECK_FALSE(has_field(head, "Transfer-Encoding"));
    CHECK_FALSE(has_field(head, "Expect"));
  }
  SUBCASE("Content-Length from the client") {
    auto t = exchange_for(d, "PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 0);
    const std::string head = build(*t);
    CHECK(has_line(head, "Content-Length: 0"));
    CHECK(head.find("Content-Length:") == head.rfind("Content-Length:"));
  }
  SUBCASE("no body: no Content-Length") {
    auto t = exchange_for(d, get(""));
    CHECK_FALSE(has_field(build(*t), "Content-Length"));
  }
}

TEST_CASE("Via names the client's HTTP version") {
  Downstream d;
  auto t = exchange_for(d, "GET / HTTP/1.0\r\nHost: h\r\n\r\n");
  const std::string head = build(*t);
  CHECK(head.rfind("GET / HTTP/1.1\r\n", 0) == 0);
  CHECK(has_line(head, "Via: 1.0 gatehouse"));
}

// RFC 9112 3.2: HTTP/1.1 always carries Host, empty when there is no authority.
TEST_CASE("an HTTP/1.0 request without Host still gets a Host field upstream") {
  Downstream d;
  auto t = exchange_for(d, "GET / HTTP/1.0\r\n\r\n");
  CHECK(has_field(build(*t), "Host"));
}

TEST_CASE("a head larger than the buffer is reported by the builder") {
  Downstream d;
  auto t = exchange_for(d, get("X-Big: " + std::string(500, 'b') + "\r\n"));
  char small[256];
  HeadBuilder out(small, sizeof small);
  proxy::build_request_head(*t->ex, out);
  CHECK_FALSE(out.ok());
}

TEST_CASE("a streamed body keeps the client's length, or goes chunked when it has none") {
  Downstream d;
  SUBCASE("chunked from the client, still arriving") {
    auto t =
        exchange_for(d, "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 100);
    t->ex->body_streaming = true;
    const std::string head = build(*t);
    CHECK(has_line(head, "Transfer-Encoding: chunked"));
    CHECK_FALSE(has_field(head, "Content-Length"));
    CHECK(proxy::streams_chunked(*t->ex));
  }
  SUBCASE("chunked from the client, complete by the time the backend is asked") {
    auto t =
        exchange_for(d, "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 11);
    t->ex->body_streaming = true;
    t->ex->request_complete = true;
    const std::string head = build(*t);
    CHECK(has_line(head, "Content-Length: 11"));
    CHECK_FALSE(has_field(head, "Transfer-Encoding"));
  }
  SUBCASE("Content-Length from the client, still arriving") {
    auto t = exchange_for(d, "PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000\r\n\r\n", 7);
    t->ex->body_streaming = true;
    const std::string head = build(*t);
    CHECK(has_line(head, "Content-Length: 5000000"));
    CHECK_FALSE(has_field(head, "Transfer-Encoding"));
    CHECK_FALSE(proxy::streams_chunked(*t->ex));
  }
}

TEST_CASE("a WebSocket handshake goes out with Connection: Upgrade and Upgrade: websocket only") {
  Downstream d;
  auto t = exchange_for(d, get("Connection: Upgrade, X-Private\r\n"
                               "Upgrade: websocket\r\n"
                               "Keep-Alive: timeout=5\r\n"
                               "X-Private: secret\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n"));
  REQUIRE(t->ex->request.upgrade_websocket);
  const std::string head = build(*t);
  CHECK(has_line(head, "Connection: Upgrade"));
  CHECK(has_line(head, "Upgrade: websocket"));
  CHECK(has_line(head, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK(has_line(head, "Sec-WebSocket-Version: 13"));
  CHECK_FALSE(has_field(head, "Keep-Alive"));
  CHECK_FALSE(has_field(head, "X-Private"));
  CHECK(head.find("Connection:") == head.rfind("Connection:"));
}
