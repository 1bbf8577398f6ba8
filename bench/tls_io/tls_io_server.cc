// SPDX-License-Identifier: MIT
// tls-io-server: an HTTP/1.1-over-TLS responder with two interchangeable I/O layers, to measure
// what libevent's bufferevent_openssl costs against calling SSL_read/SSL_write directly (issue 3).
//
//   tls-io-server --mode bufferevent|direct --port N --cert C --key K --body BYTES
//
// Every keep-alive GET (a head ending in CRLF CRLF; pipelined heads are answered in order) gets
// the same 200 with a BYTES-long body. Only the I/O layer differs between the modes; everything
// else is shared so that it cancels out: gatehouse's own SSL_CTX (tls::ServerContext), the accept
// loop, the framing, and the TLS records sent (the first record of a response carries the head and
// the start of the body, then full 16 KiB records straight from the shared body).
//   direct:      gatehouse's proxy::io::Transport itself (SSL_set_fd, read-ahead, partial writes,
//                SSL_read into our buffer, SSL_write from our buffers), one edge-triggered event.
//   bufferevent: bufferevent_openssl_socket_new, the input evbuffer searched for the head end,
//                responses added to the output evbuffer (the body by reference, not copied).
// On SIGTERM or SIGINT it prints the number of requests answered to stderr and exits.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "proxy/base/log.h"
#include "proxy/io/transport.h"
#include "tls/server_context.h"

namespace {

using proxy::io::Transport;

// Request bytes a connection holds; a head that does not fit is not a bench request.
constexpr size_t kInCap = 16 * 1024;
// Responses handed to one writev in direct mode (two pieces each: head, body).
constexpr int kMaxQueuedPieces = 16;

enum class Mode { kBufferevent, kDirect };

struct Server {
  event_base* base = nullptr;
  std::unique_ptr<tls::ServerContext> tls;
  Mode mode = Mode::kDirect;
  std::string head;        // the response head, the same bytes for every response
  std::vector<char> body;  // the response body, shared by every response, never copied whole
  uint64_t answered = 0;
  uint64_t handshakes = 0;
  uint64_t tls13 = 0;  // handshakes that negotiated TLS 1.3: the bench claims it does
};

void count_handshake(Server& server, const SSL* ssl) {
  ++server.handshakes;
  if (SSL_version(ssl) == TLS1_3_VERSION) ++server.tls13;
}

// Where the head ends in |p|[0, len): the offset just past CRLF CRLF, or 0 when not there yet.
size_t head_end(const char* p, size_t len) {
  const void* at = memmem(p, len, "\r\n\r\n", 4);
  return at ? static_cast<size_t>(static_cast<const char*>(at) - p) + 4 : 0;
}

// ---- direct: gatehouse's Transport, driven like proxy/downstream/http1_connection.cc ----------

// One connection. Readiness is tracked across edge-triggered events; a TLS read may wait for
// writability and a write for readability (Transport::want()). Frees itself when it closes.
class DirectConnection {
 public:
  DirectConnection(Server& server, int fd, tls::SslPtr ssl)
      : server_(server), transport_(fd, std::move(ssl)) {
    event_assign(&ev_, server.base, fd, EV_READ | EV_WRITE | EV_ET | EV_PERSIST, on_event, this);
    event_add(&ev_, nullptr);
    drive();
  }
  ~DirectConnection() { event_del(&ev_); }

 private:
  static void on_event(evutil_socket_t, short what, void* arg) {
    auto* self = static_cast<DirectConnection*>(arg);
    if (what & EV_READ) {
      self->readable_ = true;
      if (self->write_waits_read_) {
        self->writable_ = true;
        self->write_waits_read_ = false;
      }
    }
    if (what & EV_WRITE) {
      self->writable_ = true;
      if (self->read_waits_write_) {
        self->readable_ = true;
        self->read_waits_write_ = false;
      }
    }
    self->drive();
  }

  // Reads and writes until both directions wait for an event; deletes this on close.
  void drive() {
    if (!transport_.handshake_done()) {
      const int r = transport_.handshake();
      if (r < 0) return close();
      if (r == 0) return;  // the next edge, whichever it is, retries
      count_handshake(server_, transport_.ssl());
    }
    for (bool progress = true; progress;) {
      progress = false;
      if (readable_ && in_len_ < kInCap) {
        if (!read_requests(progress)) return close();
      }
      if (in_len_ == kInCap) return close();
      while (writable_ && queued_ > 0) {
        const ssize_t n = write_responses();
        if (n > 0) {
          progress = true;
          continue;
        }
        if (n < 0 && errno == EAGAIN) {
          writable_ = false;
          write_waits_read_ = transport_.want() == Transport::Want::kRead;
          break;
        }
        if (n < 0 && errno == EINTR) continue;
        return close();
      }
    }
  }

  // One read, then every complete head it finished is queued for an answer. False: close.
  bool read_requests(bool& progress) {
    const size_t want = kInCap - in_len_;
    const ssize_t n = transport_.read(in_ + in_len_, want);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR) return true;
      if (errno != EAGAIN) return false;
      readable_ = false;
      read_waits_write_ = transport_.want() == Transport::Want::kWrite;
      return true;
    }
    // A short read drained the source: more comes with the next edge (Transport::drained()).
    if (static_cast<size_t>(n) < want && transport_.drained()) readable_ = false;
    in_len_ += static_cast<size_t>(n);
    progress = true;
    size_t used = 0;
    while (size_t end = head_end(in_ + used, in_len_ - used)) {
      used += end;
      ++queued_;
      ++server_.answered;
    }
    if (used > 0) {
      memmove(in_, in_ + used, in_len_ - used);
      in_len_ -= used;
    }
    return true;
  }

  // Offers the queued responses (the first from where the last write stopped) to one writev.
  ssize_t write_responses() {
    const std::string& head = server_.head;
    const std::vector<char>& body = server_.body;
    iovec iov[kMaxQueuedPieces];
    int count = 0;
    size_t skip = sent_;
    for (uint32_t r = 0; r < queued_ && count + 2 <= kMaxQueuedPieces; ++r) {
      const size_t h = std::min(skip, head.size());
      if (h < head.size()) iov[count++] = {const_cast<char*>(head.data()) + h, head.size() - h};
      skip -= h;
      iov[count++] = {const_cast<char*>(body.data()) + skip, body.size() - skip};
      skip = 0;
    }
    const ssize_t n = transport_.writev(iov, count);
    if (n <= 0) return n;
    // Drops what was written: whole responses, then a prefix of the next one.
    const size_t response = head.size() + body.size();
    sent_ += static_cast<size_t>(n);
    while (queued_ > 0 && sent_ >= response) {
      sent_ -= response;
      --queued_;
    }
    return n;
  }

  void close() { delete this; }

  Server& server_;
  event ev_;
  Transport transport_;
  char in_[kInCap];
  size_t in_len_ = 0;
  uint32_t queued_ = 0;  // responses not fully written yet
  size_t sent_ = 0;      // bytes of the first of them already written
  bool readable_ = true;
  bool writable_ = true;
  bool read_waits_write_ = false;
  bool write_waits_read_ = false;
};

// ---- bufferevent: the usual bufferevent_openssl idiom ------------------------------------------

// Appends one response. The head and the start of the body are copied into one contiguous chunk
// (one evbuffer chain), so that libevent's do_write, which makes one SSL_write (one record) per
// chain, sends the same records as Transport::writev's gathering; the rest of the body is added by
// reference and leaves in full 16 KiB records (libevent writes at most 16 KiB per do_write).
void bev_respond(Server& server, evbuffer* out) {
  const std::string& head = server.head;
  const std::vector<char>& body = server.body;
  const size_t first = std::min(head.size() + body.size(), Transport::kRecordSize);
  const size_t prefix = first - head.size();
  evbuffer_iovec v;
  if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(first), &v, 1) != 1) return;
  memcpy(v.iov_base, head.data(), head.size());
  memcpy(static_cast<char*>(v.iov_base) + head.size(), body.data(), prefix);
  v.iov_len = first;
  evbuffer_commit_space(out, &v, 1);
  if (prefix < body.size())
    evbuffer_add_reference(out, body.data() + prefix, body.size() - prefix, nullptr, nullptr);
}

void bev_on_read(bufferevent* bev, void* arg) {
  auto& server = *static_cast<Server*>(arg);
  evbuffer* in = bufferevent_get_input(bev);
  for (;;) {
    const evbuffer_ptr at = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
    if (at.pos < 0) break;
    evbuffer_drain(in, static_cast<size_t>(at.pos) + 4);
    ++server.answered;
    bev_respond(server, bufferevent_get_output(bev));
  }
  if (evbuffer_get_length(in) >= kInCap) bufferevent_free(bev);
}

void bev_on_event(bufferevent* bev, short what, void* arg) {
  if (what & BEV_EVENT_CONNECTED)
    count_handshake(*static_cast<Server*>(arg), bufferevent_openssl_get_ssl(bev));
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) bufferevent_free(bev);
}

// ---- shared: listener, accept, main ------------------------------------------------------------

void on_accept(evutil_socket_t lfd, short, void* arg) {
  auto& server = *static_cast<Server*>(arg);
  for (;;) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; anything else: the next event retries
    tls::SslPtr ssl = server.tls->new_ssl();
    if (!ssl) {
      ::close(fd);
      continue;
    }
    if (server.mode == Mode::kDirect) {
      new DirectConnection(server, fd, std::move(ssl));
      continue;
    }
    // The bufferevent owns the SSL and the socket from here (BEV_OPT_CLOSE_ON_FREE); if it
    // fails, libevent may already have freed them, so they are not touched again.
    bufferevent* bev = bufferevent_openssl_socket_new(
        server.base, fd, ssl.release(), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) continue;
    bufferevent_setcb(bev, bev_on_read, nullptr, bev_on_event, &server);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
  }
}

void on_signal(evutil_socket_t, short, void* arg) {
  event_base_loopbreak(static_cast<event_base*>(arg));
}

// 127.0.0.1:|port|, non-blocking, TCP_NODELAY inherited by accepted sockets (as gatehouse's
// listen_socket.cc does). -1 on failure.
int listen_on(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4096) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int usage() {
  fprintf(
      stderr,
      "usage: tls-io-server --mode bufferevent|direct --port N --cert C --key K --body BYTES\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode, cert, key;
  long port = -1, body = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--mode")
      mode = argv[i + 1];
    else if (opt == "--port")
      port = strtol(argv[i + 1], nullptr, 10);
    else if (opt == "--cert")
      cert = argv[i + 1];
    else if (opt == "--key")
      key = argv[i + 1];
    else if (opt == "--body")
      body = strtol(argv[i + 1], nullptr, 10);
    else
      return usage();
  }
  if (argc % 2 != 1 || (mode != "direct" && mode != "bufferevent") || port < 1 || port > 65535 ||
      cert.empty() || key.empty() || body < 0)
    return usage();

  // Transport logs once, at info level, that kernel TLS is missing: not news for a bench.
  proxy::base::set_log_level(proxy::base::LogLevel::kWarn);
  signal(SIGPIPE, SIG_IGN);

  Server server;
  server.mode = mode == "direct" ? Mode::kDirect : Mode::kBufferevent;
  conf::TlsConfig tls_config;
  tls_config.certificates.push_back(conf::Certificate{cert, key, "", 0, 0, {}});
  tls_config.alpn = {"http/1.1"};
  auto tls = tls::ServerContext::build(tls_config, std::time(nullptr));
  if (!tls) {
    fprintf(stderr, "tls-io-server: %s\n", tls.error().c_str());
    return 1;
  }
  server.tls = std::move(*tls);
  server.body.assign(static_cast<size_t>(body), 'x');
  server.head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                std::to_string(body) + "\r\n\r\n";

  const int lfd = listen_on(static_cast<uint16_t>(port));
  if (lfd < 0) {
    fprintf(stderr, "tls-io-server: cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
    return 1;
  }
  server.base = event_base_new();
  event* accept_ev = event_new(server.base, lfd, EV_READ | EV_PERSIST, on_accept, &server);
  event* term_ev = evsignal_new(server.base, SIGTERM, on_signal, server.base);
  event* int_ev = evsignal_new(server.base, SIGINT, on_signal, server.base);
  event_add(accept_ev, nullptr);
  event_add(term_ev, nullptr);
  event_add(int_ev, nullptr);
  fprintf(stderr, "tls-io-server: %s mode, body %ld bytes, listening on 127.0.0.1:%ld\n",
          mode.c_str(), body, port);
  event_base_dispatch(server.base);
  fprintf(stderr, "tls-io-server: answered %llu requests; %llu handshakes, %llu of them TLS 1.3\n",
          static_cast<unsigned long long>(server.answered),
          static_cast<unsigned long long>(server.handshakes),
          static_cast<unsigned long long>(server.tls13));
  // Live connections are left to the exit: the process ends here.
  return 0;
}
