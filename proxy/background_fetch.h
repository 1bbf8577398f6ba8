// SPDX-License-Identifier: MIT
// A fetch with no client: the stale-while-revalidate refresh of a stored object (RFC 5861 3),
// or the whole-response fill behind a HEAD, Range or conditional miss.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "cache/object.h"
#include "proxy/connection.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"

namespace proxy {

struct Exchange;

// Runs the miss path for a copy of a client's request, on the client's loop, and throws the
// response away: what matters is what the cache store stage makes of it (a 304 refreshes the
// stale object, a storable response replaces it). Its own Exchange and a copy of the request
// head live as long as the fetch; it is one of the loop's connections, so a graceful stop waits
// for it. It frees itself when the response is over.
class BackgroundFetch final : public Connection, public Downstream {
 public:
  // Starts the refresh of |stale| for |origin|'s request, unless a fill of the key is already in
  // flight (that one refreshes it): one background refresh per key at a time.
  static void refresh(const Exchange& origin, const cache::ObjectRef& stale);
  // A miss whose own answer is not a whole response (a HEAD, a Range, a conditional request):
  // fetches the whole GET response for the key, which fills the cache, so that the request is
  // answered from the filling object (it waits on the key's pending fill). Unless a fill is in
  // flight already (true: wait on that one) or the key was just found not storable (false).
  static bool fill(const Exchange& origin);
  // The client of a cache fill went away while the backend's body was still coming: the fetch
  // takes the exchange over (its log line is written now, for the client), so the fill goes on
  // for the clients coalesced on it and is stored whole. False if |ex| is not such a fill; when
  // true the caller forgets |ex| (it must not finish or release it).
  static bool adopt(Exchange& ex);

  void read_body() override {}
  void body_taken() override {}
  // Discards the output; at the end of the response, logs and frees the fetch.
  void output_ready() override;
  void upgrade(io::Transport&&, std::string_view) override {}
  const sockaddr* peer() const override { return reinterpret_cast<const sockaddr*>(&peer_); }
  const ListenerRef& listener() const override { return listener_; }
  bool tls() const override { return tls_; }
  void drain() override {}  // it ends on its own, within the backend timeouts

 private:
  static bool start(const Exchange& origin, const cache::ObjectRef& stale);
  BackgroundFetch(EventLoop& loop, const Exchange& origin);
  // Adoption: takes |ex| itself, not a copy of its request.
  BackgroundFetch(EventLoop& loop, Exchange& ex);
  void copy_peer(const Downstream& from);
  ~BackgroundFetch() = default;
  // Copies the parts of |origin|'s request the backend request is made of into storage_.
  void copy_request(const Exchange& origin);
  void finish();

  EventLoop& loop_;
  ListenerRef listener_;
  bool tls_ = false;
  sockaddr_storage peer_{};
  std::string storage_;  // the request head's bytes that ex_->request's views point into
  Exchange* ex_ = nullptr;
  bool finished_ = false;
  bool logged_ = false;  // an adopted exchange was logged for its client already
};

}  // namespace proxy
