// SPDX-License-Identifier: MIT
// An event loop handed a new runtime: a re-resolved one, or a new config (a reload in place),
// with the listening sockets to accept on from then on.
#include <event2/event.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/base/log.h"
#include "proxy/event_loop.h"
#include "proxy/upstream/upstream_pools.h"

namespace proxy {

std::string EventLoop::listen_on(ListenerRef& l) {
  auto ctx = std::make_unique<AcceptContext>(AcceptContext{this, &l});
  base::EventPtr ev(event_new(base_.get(), l.fd, EV_READ | EV_PERSIST, on_accept, ctx.get()));
  if (!ev) return strerror(ENOMEM);
  ctx.release();  // the event holds it: freed with the event (see ~EventLoop, apply_listeners)
  std::string failed;
  if (!draining_ && event_add(ev.get(), nullptr) != 0) failed = strerror(errno);
  active_.push_back(&l);
  accept_events_.push_back(std::move(ev));
  return failed;
}

void EventLoop::apply_listeners(const std::vector<ListenerRef>& wanted) {
  std::vector<ListenerRef*> was = std::move(active_);
  std::vector<base::EventPtr> events = std::move(accept_events_);
  active_.clear();
  accept_events_.clear();
  const auto& configured = runtime_->config->listeners;
  for (const ListenerRef& w : wanted) {
    ListenerRef want{w.name, w.fd, w.admin};
    for (size_t i = 0; i < configured.size(); ++i)
      if (configured[i].name == w.name) want.index = i;
    want.tls = runtime_->tls_for(want.index);
    // A listener the reload did not change keeps its ListenerRef and its event.
    size_t k = 0;
    while (k < was.size() &&
           !(was[k] && was[k]->fd == want.fd && was[k]->name == want.name &&
             was[k]->admin == want.admin && was[k]->index == want.index && was[k]->tls == want.tls))
      ++k;
    if (k < was.size()) {
      active_.push_back(was[k]);
      accept_events_.push_back(std::move(events[k]));
      was[k] = nullptr;
      continue;
    }
    listeners_.push_back(want);
    if (auto failed = listen_on(listeners_.back()); !failed.empty())
      LOG_ERROR("listener %s: cannot accept on it: %s", want.name.c_str(), failed.c_str());
  }
  for (size_t k = 0; k < was.size(); ++k) {
    if (!was[k]) continue;
    // Stops accepting; connections accepted on it keep its ListenerRef.
    delete static_cast<AcceptContext*>(event_get_callback_arg(events[k].get()));
    events[k].reset();
  }
}

void EventLoop::offer_runtime(std::shared_ptr<const Runtime> runtime,
                              std::shared_ptr<const ListenerSet> listeners) {
  {
    std::lock_guard<std::mutex> lock(offered_mutex_);
    offered_ = std::move(runtime);
    if (listeners) offered_listeners_ = std::move(listeners);
  }
  uint64_t one = 1;
  ssize_t n = ::write(runtime_fd_.get(), &one, sizeof one);
  (void)n;
}

void EventLoop::on_runtime(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  uint64_t v;
  ssize_t n = ::read(fd, &v, sizeof v);
  (void)n;
  std::shared_ptr<const Runtime> next;
  std::shared_ptr<const ListenerSet> listeners;
  {
    std::lock_guard<std::mutex> lock(self->offered_mutex_);
    next = std::move(self->offered_);
    listeners = std::move(self->offered_listeners_);
  }
  if (next) self->switch_runtime(std::move(next), std::move(listeners));
}

void EventLoop::switch_runtime(std::shared_ptr<const Runtime> next,
                               std::shared_ptr<const ListenerSet> listeners) {
  if (next->config == runtime_->config) {
    // The listeners' TLS contexts stay valid: a re-resolved runtime shares the old one's.
    if (next->server_count != runtime_->server_count) return;
    runtime_ = std::move(next);
    upstreams_->retarget(*runtime_);
    runtimes_served_.fetch_add(1, std::memory_order_release);
    return;
  }
  upstreams_->reconfigure(*next);  // the old runtime's servers are still alive here
  runtime_ = std::move(next);
  init_timeouts();
  if (listeners) {
    apply_listeners(listeners->listeners);
    listener_set_ = std::move(listeners);
  } else {
    std::vector<ListenerRef> same;
    for (const ListenerRef* l : active_) same.push_back(ListenerRef{l->name, l->fd, l->admin});
    apply_listeners(same);
  }
  runtimes_served_.fetch_add(1, std::memory_order_release);
}

}  // namespace proxy
