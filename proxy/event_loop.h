// SPDX-License-Identifier: MIT
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/base/event_handles.h"
#include "proxy/base/unique_fd.h"
#include "proxy/block_pool.h"
#include "proxy/client_counter.h"
#include "proxy/connection_refusals.h"
#include "proxy/runtime.h"

namespace cache {
class Cache;
}

namespace proxy {

class AccessLog;
class Connection;
class UpstreamPools;
class WakeQueue;
struct Exchange;

// A listening socket as a worker sees it. The event loop fills in the last two from its runtime.
struct ListenerRef {
  std::string name;
  int fd = -1;
  bool admin = false;
  size_t index = SIZE_MAX;                  // in runtime.config->listeners
  const tls::ServerContext* tls = nullptr;  // owned by the runtime; null: plain listener
};

// The listening sockets a worker hands its event loops at a reload: each loop accepts on these
// from then on and stops accepting on the others. The sockets stay open while a loop or the
// worker holds the set.
struct ListenerSet {
  std::vector<ListenerRef> listeners;  // name, fd and admin; the loop fills in the rest
  std::vector<std::shared_ptr<const base::UniqueFd>> sockets;
};

// State shared by all event loops of one worker process.
struct WorkerShared {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> next_id{1};
  ClientCounter per_client;
  std::atomic<bool> per_client_used{false};  // some config of this worker counted per client
  ConnectionRefusals refusals;               // over max_connections or max_connections_per_client
  // The worker's one cache (owned by the worker process, so it outlives an in-process reload);
  // used only while the exchange's config has a cache: section.
  cache::Cache* cache = nullptr;
  // accept() out of file descriptors: logged at most once a second per worker.
  std::atomic<int64_t> accept_failure_logged_s{-1};
  std::atomic<uint64_t> accept_failures{0};
};

// Timeouts as libevent "common timeouts": timers that share a duration are kept in a queue, so
// re-arming one per read costs no heap operation.
struct LoopTimeouts {
  const timeval* client_header = nullptr;
  const timeval* client_idle = nullptr;
  const timeval* client_body = nullptr;
  const timeval* client_send = nullptr;
  const timeval* backend_connect = nullptr;
  const timeval* backend_response = nullptr;
  const timeval* linger = nullptr;
  const timeval* upstream_idle = nullptr;
  const timeval* upstream_surplus = nullptr;
  const timeval* over_limit = nullptr;  // an over-limit connection's request head
};

// One thread's event loop: accepts on the shared listening sockets and serves its connections
// without locks. Everything reachable from here belongs to this thread alone.
class EventLoop {
 public:
  // A loop that could not be set up (out of file descriptors or memory) says why in
  // setup_error(); it holds only what it got, and must not be run.
  EventLoop(std::shared_ptr<const Runtime> runtime, const std::vector<ListenerRef>& listeners,
            WorkerShared& shared);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Empty once the loop is ready to run; else the reason (an errno text) it cannot.
  const std::string& setup_error() const { return setup_error_; }

  // Runs until drained: called on the loop's own thread.
  void run();
  // Thread-safe: stop accepting, close idle connections, finish the rest, then return from run().
  void request_drain();
  // Thread-safe: new requests use `runtime` (the same config with re-resolved server addresses,
  // or a new config: a reload); a request keeps the runtime it started with. With a new config,
  // new connections get its timeouts and limits, idle backend connections to servers it still
  // has are kept, and `listeners` (if given) become the sockets accepted on: connections
  // accepted on a dropped one finish as they are.
  void offer_runtime(std::shared_ptr<const Runtime> runtime,
                     std::shared_ptr<const ListenerSet> listeners = nullptr);
  // How many offered runtimes this loop has put in service (thread-safe): a worker waits for
  // its loops to serve a reload before it reports it.
  uint64_t runtimes_served() const { return runtimes_served_.load(std::memory_order_acquire); }

  event_base* base() const { return base_.get(); }
  const Runtime& runtime() const { return *runtime_; }
  const std::shared_ptr<const Runtime>& runtime_ptr() const { return runtime_; }
  const LoopTimeouts& timeouts() const { return timeouts_; }
  WorkerShared& shared() { return shared_; }
  bool draining() const { return draining_; }
  // The loop's clock in microseconds, cached for the current turn (no system call inside a
  // callback): what deadlines are kept in. Exact to the microsecond, unlike a tv_sec.
  int64_t now_us() const {
    timeval tv;
    event_base_gettimeofday_cached(base_.get(), &tv);
    return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
  }
  // The time left from |now| until |deadline| (both now_us()), zero once it is past.
  static timeval time_left(int64_t deadline, int64_t now) {
    const int64_t left = deadline > now ? deadline - now : 0;
    return timeval{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
  }

  // Scratch space for one read; its contents do not survive a return to the loop.
  char* scratch() { return scratch_.get(); }
  static constexpr size_t kScratchSize = 64 * 1024;

  BlockPool& head_blocks() { return head_blocks_; }
  UpstreamPools& upstreams() { return *upstreams_; }
  // The current time as an HTTP-date (RFC 9110 5.6.7), refreshed once a second.
  std::string_view http_date();

  Exchange* acquire_exchange();
  void release_exchange(Exchange* ex);

  void add_connection(Connection* c);
  void remove_connection(Connection* c);
  // A client connection from |peer| has closed: gives back its place under max_connections and
  // its per-client slot. Called once per accepted connection, by whichever object owns it last.
  void release_connection(const sockaddr* peer);
  // An over-limit connection answered with 503 (see refuse()) has closed: frees its place.
  void release_over_limit() { --over_limit_; }
  // The loop's cached time, in seconds.
  int64_t cached_seconds() const;
  // Cross-thread wakes for this loop (LoopWaker), made on first use; on the loop's thread only.
  WakeQueue& wake_queue();

 private:
  struct AcceptContext {  // an accept event's argument
    EventLoop* loop;
    const ListenerRef* listener;
  };
  static void on_accept(evutil_socket_t fd, short what, void* arg);
  static void on_drain(evutil_socket_t fd, short what, void* arg);
  static void on_trim(evutil_socket_t fd, short what, void* arg);
  static void on_runtime(evutil_socket_t fd, short what, void* arg);
  static void on_accept_pause_end(evutil_socket_t fd, short what, void* arg);
  std::string set_up();
  // The timeouts of runtime_'s config, as common timeouts while the base has room for them.
  void init_timeouts();
  // Accepts on |wanted| from now on (index and tls from runtime_); see offer_runtime.
  void apply_listeners(const std::vector<ListenerRef>& wanted);
  std::string listen_on(ListenerRef& l);
  void switch_runtime(std::shared_ptr<const Runtime> next,
                      std::shared_ptr<const ListenerSet> listeners);
  // accept() ran out of file descriptors: the connection stays queued and the listener readable,
  // so this loop stops accepting for a moment instead of spinning on it (as nginx does).
  void pause_accepting(const ListenerRef& listener, int err);
  void accept_from(int fd, const ListenerRef& listener);
  // A connection over a limit: counted, logged (rate-limited), and answered 503 once its request
  // head is in (within a short deadline), as nginx's limit_conn does; past kMaxOverLimit such
  // connections at once it is closed at once, so an attack costs no more than that.
  void refuse(int fd, const sockaddr* peer, socklen_t len, const ListenerRef& listener,
              ConnectionRefusals::Limit limit);
  void begin_drain();
  void maybe_exit();

  std::shared_ptr<const Runtime> runtime_;
  WorkerShared& shared_;
  std::string setup_error_;
  base::EventBasePtr base_;
  LoopTimeouts timeouts_;
  // Every ListenerRef this loop made, those dropped by a reload too: a connection keeps a
  // reference to the one it was accepted on. A deque: references stay valid as it grows.
  std::deque<ListenerRef> listeners_;
  std::vector<ListenerRef*> active_;                 // accepted on, in accept_events_ order
  std::vector<base::EventPtr> accept_events_;        // one per active_ listener
  std::shared_ptr<const ListenerSet> listener_set_;  // keeps the active sockets open
  std::deque<timeval> own_timeouts_;                 // when the base's common timeouts are full
  base::EventPtr accept_pause_;
  base::UniqueFd drain_fd_;
  base::EventPtr drain_event_;
  base::EventPtr trim_event_;
  base::UniqueFd runtime_fd_;
  base::EventPtr runtime_event_;
  std::mutex offered_mutex_;
  std::shared_ptr<const Runtime> offered_;                // guarded by offered_mutex_
  std::shared_ptr<const ListenerSet> offered_listeners_;  // guarded by offered_mutex_
  std::atomic<uint64_t> runtimes_served_{0};
  size_t heap_peak_ = 0;  // most exchanges at once since the heap was last trimmed
  bool draining_ = false;
  std::unique_ptr<char[]> scratch_;
  BlockPool head_blocks_;
  std::unique_ptr<UpstreamPools> upstreams_;
  struct ExchangeTraits {
    using Item = Exchange;
    Exchange* create() const;
    void destroy(Exchange* ex) const;
  };
  Recycler<ExchangeTraits> exchanges_;
  Connection* connections_ = nullptr;  // intrusive list, for draining
  size_t over_limit_ = 0;              // over-limit connections waiting for their 503
  size_t connection_count_ = 0;
  char date_[32] = {};
  time_t date_second_ = -1;
  std::unique_ptr<WakeQueue> wake_queue_;  // last: goes before the base it registers with
};

}  // namespace proxy
