// SPDX-License-Identifier: MIT
#include "proxy/event_loop.h"

#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "proxy/base/log.h"
#include "proxy/downstream/http1_connection.h"
#include "proxy/exchange.h"
#include "proxy/io/socket_address.h"
#include "proxy/loop_waker.h"  // ~EventLoop destroys the wake queue
#include "proxy/upstream/upstream_pools.h"

namespace proxy {
namespace {

constexpr int kAcceptBatch = 64;
// Head blocks hold a request head of limits.max_request_header plus room to read body bytes.
constexpr size_t kBodyReadRoom = 16 * 1024;
// How long an unused backend connection is kept. App servers close theirs after a few seconds
// (gunicorn 2s, Puma 20s); keeping ours shorter than most makes stale connections rare.
constexpr timeval kUpstreamIdle = {4, 0};
// Idle connections past the pool's keepalive cap: long enough for the next burst to reuse them.
constexpr timeval kUpstreamSurplus = {1, 0};
constexpr timeval kLinger = {2, 0};
// After a burst of connections, give the freed heap back to the system so that idle connections
// cost what they hold, not what the peak held.
// Short, so a burst's spares are gone well within a second of it: two intervals must pass (the
// one the burst ended in still counts its peak).
constexpr timeval kTrimInterval = {0, 250 * 1000};
constexpr size_t kTrimAfterPeak = 256;
// Over-limit connections answered with a 503 at once, per loop (each may hold a head block), and
// how long each may take to send its request head.
constexpr size_t kMaxOverLimit = 32;
constexpr timeval kOverLimitHead = {2, 0};
// The fds an event base opens: its epoll fd and the pipe of its signal handling.
constexpr int kBaseFds = 3;
// How long a loop stops accepting once accept() is out of file descriptors.
constexpr timeval kAcceptPause = {0, 100 * 1000};

timeval to_timeval(conf::Duration d) {
  return timeval{static_cast<time_t>(d.count() / 1000),
                 static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

}  // namespace

EventLoop::EventLoop(std::shared_ptr<const Runtime> runtime,
                     const std::vector<ListenerRef>& listeners, WorkerShared& shared)
    : runtime_(std::move(runtime)),
      shared_(shared),
      listeners_(listeners.begin(), listeners.end()),
      scratch_(new char[kScratchSize]),
      head_blocks_(runtime_->config->limits.max_request_header + kBodyReadRoom) {
  setup_error_ = set_up();
}

std::string EventLoop::set_up() {
  auto system_error = [] { return std::string(strerror(errno)); };
  // Our fds first; then room for what the event base opens (an epoll fd and the pipe of its
  // signal handling), made sure of here because libevent exits the process when it gets the
  // first and not the second. Nothing else opens fds while a worker builds its loops.
  drain_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!drain_fd_) return system_error();
  runtime_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!runtime_fd_) return system_error();
  {
    base::UniqueFd room[kBaseFds];
    for (auto& fd : room) {
      fd.reset(eventfd(0, EFD_CLOEXEC));
      if (!fd) return system_error();
    }
  }
  event_config* cfg = event_config_new();
  if (!cfg) return strerror(ENOMEM);
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  errno = 0;
  base_.reset(event_base_new_with_config(cfg));
  const int err = errno;
  event_config_free(cfg);
  if (!base_) return err ? strerror(err) : "no event mechanism available";

  init_timeouts();

  upstreams_ = std::make_unique<UpstreamPools>(*runtime_);

  // event_add registers the fd with epoll, which can fail (ENOMEM, max_user_watches).
  auto add = [&](base::EventPtr& ev, const timeval* tv) -> std::string {
    if (!ev) return strerror(ENOMEM);
    return event_add(ev.get(), tv) == 0 ? std::string() : system_error();
  };
  const auto& configured = runtime_->config->listeners;
  for (auto& l : listeners_) {
    for (size_t i = 0; i < configured.size(); ++i)
      if (configured[i].name == l.name) l.index = i;
    l.tls = runtime_->tls_for(l.index);
    if (auto failed = listen_on(l); !failed.empty()) return failed;
  }
  accept_pause_.reset(evtimer_new(base_.get(), on_accept_pause_end, this));
  if (!accept_pause_) return strerror(ENOMEM);
  drain_event_.reset(event_new(base_.get(), drain_fd_.get(), EV_READ | EV_PERSIST, on_drain, this));
  if (auto failed = add(drain_event_, nullptr); !failed.empty()) return failed;
  runtime_event_.reset(
      event_new(base_.get(), runtime_fd_.get(), EV_READ | EV_PERSIST, on_runtime, this));
  if (auto failed = add(runtime_event_, nullptr); !failed.empty()) return failed;
  trim_event_.reset(event_new(base_.get(), -1, EV_PERSIST, on_trim, this));
  if (auto failed = add(trim_event_, &kTrimInterval); !failed.empty()) return failed;
  return {};
}

void EventLoop::init_timeouts() {
  const auto& t = runtime_->config->timeouts;
  auto common = [&](timeval tv) -> const timeval* {
    if (const timeval* c = event_base_init_common_timeout(base_.get(), &tv)) return c;
    // A base holds 256 common timeouts; reloads with ever new values may run past that. A plain
    // timeval works the same, only without the shared queue.
    own_timeouts_.push_back(tv);
    return &own_timeouts_.back();
  };
  timeouts_.client_header = common(to_timeval(t.client_header));
  timeouts_.client_idle = common(to_timeval(t.client_idle));
  timeouts_.client_body = common(to_timeval(t.client_body));
  timeouts_.client_send = common(to_timeval(t.client_send));
  timeouts_.backend_connect = common(to_timeval(t.backend_connect));
  timeouts_.backend_response = common(to_timeval(t.backend_response));
  timeouts_.linger = common(kLinger);
  timeouts_.upstream_idle = common(kUpstreamIdle);
  timeouts_.upstream_surplus = common(kUpstreamSurplus);
  timeouts_.over_limit = common(kOverLimitHead);
}

void EventLoop::on_trim(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  const size_t freed = self->exchanges_.trim();
  self->head_blocks_.trim();
  // The heap too, but only after a burst: malloc_trim walks the whole arena. The burst's
  // exchanges are freed an interval after it ends, so that is a second trigger.
  const size_t now = self->exchanges_.in_use();
  if (freed >= kTrimAfterPeak ||
      (self->heap_peak_ >= kTrimAfterPeak && now <= self->heap_peak_ / 4)) {
    malloc_trim(128 * 1024);
    self->heap_peak_ = now;
  }
}
Exchange* EventLoop::ExchangeTraits::create() const {
  return new Exchange;
}
void EventLoop::ExchangeTraits::destroy(Exchange* ex) const {
  delete ex;
}

EventLoop::~EventLoop() {
  for (auto& ev : accept_events_)
    delete static_cast<AcceptContext*>(event_get_callback_arg(ev.get()));
  accept_events_.clear();
  upstreams_.reset();
}

void EventLoop::run() {
  event_base_dispatch(base_.get());
}

void EventLoop::request_drain() {
  uint64_t one = 1;
  ssize_t n = ::write(drain_fd_.get(), &one, sizeof one);
  (void)n;
}

void EventLoop::on_drain(evutil_socket_t fd, short, void* arg) {
  uint64_t v;
  ssize_t n = ::read(fd, &v, sizeof v);
  (void)n;
  static_cast<EventLoop*>(arg)->begin_drain();
}

void EventLoop::begin_drain() {
  if (draining_) return;
  draining_ = true;
  for (auto& ev : accept_events_) event_del(ev.get());
  event_del(accept_pause_.get());
  for (Connection* c = connections_; c;) {
    Connection* next = c->next;
    c->drain();
    c = next;
  }
  maybe_exit();
}

void EventLoop::maybe_exit() {
  if (draining_ && connection_count_ == 0) {
    event_del(trim_event_.get());
    event_base_loopexit(base_.get(), nullptr);
  }
}

void EventLoop::on_accept(evutil_socket_t fd, short, void* arg) {
  auto* ctx = static_cast<AcceptContext*>(arg);
  ctx->loop->accept_from(fd, *ctx->listener);
}

void EventLoop::accept_from(int lfd, const ListenerRef& listener) {
  const uint64_t max_conns = runtime_->config->limits.max_connections;
  for (int i = 0; i < kAcceptBatch && !draining_; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) pause_accepting(listener, errno);
      return;  // EAGAIN: another thread took it, or the queue is empty
    }
    const auto* peer = reinterpret_cast<const sockaddr*>(&ss);
    if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= max_conns) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      refuse(fd, peer, len, listener, ConnectionRefusals::Limit::kMaxConnections);
      continue;
    }
    const uint64_t per_client = runtime_->config->limits.max_connections_per_client;
    if (per_client > 0 && !shared_.per_client_used.load(std::memory_order_relaxed))
      shared_.per_client_used.store(true, std::memory_order_relaxed);
    if (per_client > 0 && !shared_.per_client.acquire(peer, per_client)) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      refuse(fd, peer, len, listener, ConnectionRefusals::Limit::kPerClient);
      continue;
    }
    io::Transport transport;
    if (listener.tls) {
      tls::SslPtr ssl = listener.tls->new_ssl();
      if (!ssl) {
        LOG_ERROR("accept on %s: cannot make a TLS session (out of memory)", listener.name.c_str());
        ::close(fd);
        release_connection(reinterpret_cast<sockaddr*>(&ss));
        continue;
      }
      transport = io::Transport(fd, std::move(ssl));
    } else {
      transport = io::Transport(fd);
    }
    auto* c = new Http1Connection(*this, std::move(transport), reinterpret_cast<sockaddr*>(&ss),
                                  len, listener);
    c->start();
  }
}

void EventLoop::pause_accepting(const ListenerRef& listener, int err) {
  const uint64_t failures = shared_.accept_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t now = cached_seconds();
  int64_t logged = shared_.accept_failure_logged_s.load(std::memory_order_relaxed);
  if (logged != now && shared_.accept_failure_logged_s.compare_exchange_strong(
                           logged, now, std::memory_order_relaxed))
    LOG_ERROR(
        "accept on %s: %s (raise the open file limit); not accepting for %ld ms, %llu such "
        "failures in all",
        listener.name.c_str(), strerror(err), static_cast<long>(kAcceptPause.tv_usec / 1000),
        static_cast<unsigned long long>(failures));
  for (auto& ev : accept_events_) event_del(ev.get());
  event_add(accept_pause_.get(), &kAcceptPause);
}

void EventLoop::on_accept_pause_end(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  if (self->draining_) return;
  for (auto& ev : self->accept_events_) event_add(ev.get(), nullptr);
}

void EventLoop::refuse(int fd, const sockaddr* peer, socklen_t len, const ListenerRef& listener,
                       ConnectionRefusals::Limit limit) {
  const bool per_client = limit == ConnectionRefusals::Limit::kPerClient;
  const auto& limits = runtime_->config->limits;
  const auto note = shared_.refusals.note(limit, cached_seconds());
  const bool answer = over_limit_ < kMaxOverLimit;
  if (note.log && base::log_level() >= base::LogLevel::kWarn) {
    char ip[64];
    io::format_ip(peer, ip, sizeof ip);
    LOG_WARN(
        "client %s on %s: connection over limits.%s (%llu): %s; %llu more refused since the "
        "last such line, %llu in all",
        ip, listener.name.c_str(), per_client ? "max_connections_per_client" : "max_connections",
        static_cast<unsigned long long>(per_client ? limits.max_connections_per_client
                                                   : limits.max_connections),
        answer ? "answering 503" : "closed (too many 503s under way)",
        static_cast<unsigned long long>(note.suppressed),
        static_cast<unsigned long long>(note.total));
  }
  if (!answer) {
    ::close(fd);
    return;
  }
  io::Transport transport;
  if (listener.tls) {
    tls::SslPtr ssl = listener.tls->new_ssl();
    if (!ssl) {
      ::close(fd);
      return;
    }
    transport = io::Transport(fd, std::move(ssl));
  } else {
    transport = io::Transport(fd);
  }
  ++over_limit_;
  auto* c = new Http1Connection(*this, std::move(transport), peer, len, listener);
  c->set_over_limit(per_client ? "limits.max_connections_per_client reached"
                               : "limits.max_connections reached");
  c->start();
}

int64_t EventLoop::cached_seconds() const {
  timeval tv;
  event_base_gettimeofday_cached(base_.get(), &tv);
  return tv.tv_sec;
}

std::string_view EventLoop::http_date() {
  time_t now = time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    tm t;
    gmtime_r(&now, &t);
    strftime(date_, sizeof date_, "%a, %d %b %Y %H:%M:%S GMT", &t);
  }
  return date_;
}

Exchange* EventLoop::acquire_exchange() {
  Exchange* ex = exchanges_.acquire();
  ex->loop = this;
  if (exchanges_.in_use() > heap_peak_) heap_peak_ = exchanges_.in_use();
  return ex;
}

void EventLoop::release_exchange(Exchange* ex) {
  ex->reset();
  exchanges_.release(ex);
}

void EventLoop::release_connection(const sockaddr* peer) {
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  // Not by the current limit: a reload may have turned it on or off since the accept (releasing
  // a client that was never counted does nothing).
  if (shared_.per_client_used.load(std::memory_order_relaxed)) shared_.per_client.release(peer);
}

void EventLoop::add_connection(Connection* c) {
  c->prev = nullptr;
  c->next = connections_;
  if (connections_) connections_->prev = c;
  connections_ = c;
  ++connection_count_;
}

void EventLoop::remove_connection(Connection* c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    connections_ = c->next;
  if (c->next) c->next->prev = c->prev;
  --connection_count_;
  maybe_exit();
}

}  // namespace proxy
