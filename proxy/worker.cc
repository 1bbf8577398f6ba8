// SPDX-License-Identifier: MIT
#include "proxy/worker.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "cache/cache.h"
#include "proxy/access_log.h"
#include "proxy/address_refresher.h"
#include "proxy/base/log.h"
#include "proxy/cache_settings.h"
#include "proxy/event_loop.h"
#include "proxy/reload_channel.h"
#include "proxy/runtime.h"
#include "proxy/worker_ready.h"
#include "proxy/worker_reload.h"

namespace proxy {
namespace {

// How long a reload may take to reach every event loop (a loop runs each callback briefly), and
// how long the rest of an order may take to arrive once it has begun.
constexpr auto kLoopsServeBound = std::chrono::seconds(5);
constexpr int kOrderBound = 5000;

// Drops root for `user` (nginx's model: the main process keeps root to bind ports on reload, the
// worker that parses untrusted bytes does not). Files opened before this stay usable. Returns
// the reason it failed, or empty.
std::string drop_privileges(const std::string& user) {
  if (user.empty() || geteuid() != 0) return {};
  passwd* pw = getpwnam(user.c_str());
  if (!pw) return "user " + user + " does not exist";
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0)
    return "cannot switch to user " + user + ": " + strerror(errno);
  return {};
}

}  // namespace

int run_worker(std::shared_ptr<const conf::Config> config, const ServerAddresses& addresses,
               const WorkerTls& tls, std::vector<io::ListenSocket> sockets, base::UniqueFd ready,
               base::UniqueFd channel, int generation) {
  base::set_log_process_tag("worker");
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) return 0;  // the main process died before we got here

  std::optional<tls::TicketSchedule> schedule = tls.schedule;
  auto update_ticket_keys = [&] {
    if (schedule && tls.keys && !schedule->apply(*tls.keys, time(nullptr)))
      LOG_ERROR("cannot derive the session ticket keys; keeping the current ones");
  };
  update_ticket_keys();
  // The main process logs the reason, as the failure of the start or reload it was for.
  auto cannot_start = [&](const std::string& reason) {
    report_cannot_start(ready, reason);
    return 2;
  };
  std::shared_ptr<AccessLog> access_log;
  if (!config->access_log.path.empty()) {
    access_log = std::make_shared<AccessLog>();
    if (!access_log->open(config->access_log.path,
                          AccessLog::format_named(config->access_log.format)))
      return cannot_start("cannot open access log " + config->access_log.path + ": " +
                          strerror(errno));
    if (!config->user.empty() && geteuid() == 0)
      if (const passwd* pw = getpwnam(config->user.c_str()))
        access_log->give_to(pw->pw_uid, pw->pw_gid);
  }
  auto runtime = Runtime::build(config, tls.contexts, &addresses, access_log);
  if (!runtime) return cannot_start(runtime.error());
  WorkerShared shared;

  if (auto failed = drop_privileges(config->user); !failed.empty()) return cannot_start(failed);

  // One cache for the worker's life, whatever config it serves: the memory tier stays warm
  // across in-process reloads (a config without a cache: section simply does not use it). Made
  // after dropping privileges, so the disk tier's files belong to the user that writes them.
  cache::Cache cache(cache_settings(config->cache));
  shared.cache = &cache;

  WorkerGeneration current;
  current.runtime = *runtime;
  current.addresses = addresses;
  current.number = generation;
  for (auto& s : sockets) {
    WorkerSocket ws{s.name, s.address, false, nullptr};
    for (const auto& l : config->listeners)
      if (l.name == s.name) ws.admin = l.admin;
    ws.fd = std::make_shared<const base::UniqueFd>(std::move(s.fd));
    current.sockets.push_back(std::move(ws));
  }
  const std::vector<ListenerRef> listeners = listener_set(current)->listeners;

  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Signals and reload orders are waited for together.
  base::UniqueFd signals(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals) return cannot_start(std::string("signalfd: ") + strerror(errno));

  const size_t n = thread_count(*config);
  auto loop_number = [n](size_t i) { return std::to_string(i + 1) + " of " + std::to_string(n); };
  std::vector<std::unique_ptr<EventLoop>> loops;
  for (size_t i = 0; i < n; ++i) {
    loops.push_back(std::make_unique<EventLoop>(*runtime, listeners, shared));
    if (const auto& failed = loops.back()->setup_error(); !failed.empty())
      return cannot_start("cannot create event loop " + loop_number(i) + ": " + failed);
  }
  std::vector<std::thread> threads;
  std::atomic<size_t> running{n};
  std::string no_thread;
  for (auto& loop : loops) {
    try {  // std::thread reports a failed pthread_create only by throwing
      threads.emplace_back([&running, l = loop.get()] {
        l->run();
        running.fetch_sub(1);
      });
    } catch (const std::system_error& e) {
      no_thread = "cannot start the thread of event loop " + loop_number(threads.size()) + ": " +
                  strerror(e.code().value());
      break;
    }
  }
  if (!no_thread.empty()) {
    for (size_t i = 0; i < threads.size(); ++i) loops[i]->request_drain();
    for (auto& t : threads) t.join();
    return cannot_start(no_thread);
  }
  LOG_INFO("serving with %zu event loop%s", n, n == 1 ? "" : "s");
  report_ready(ready);
  cache.start_background_work();
  auto refresher = std::make_unique<AddressRefresher>(
      current.runtime, current.addresses, io::resolve_address, std::chrono::steady_clock::now());
  // Generations replaced while a loop had not yet let go of their sockets.
  std::vector<WorkerGeneration> retired;
  // A reload order: build the new generation, hand it to every loop, wait (bounded) until each
  // serves it, and answer.
  auto reload = [&](ChannelMessage&& message) {
    auto order = decode(std::move(message));
    if (!order) return std::string("a bad reload message: ") + order.error();
    auto next = build_generation(std::move(*order), current, tls.keys, time(nullptr));
    if (!next) return next.error();
    auto set = listener_set(*next);
    std::vector<uint64_t> served;
    for (auto& loop : loops) served.push_back(loop->runtimes_served());
    for (auto& loop : loops) loop->offer_runtime(next->runtime, set);
    const auto until = std::chrono::steady_clock::now() + kLoopsServeBound;
    bool all = false;
    while (!all && std::chrono::steady_clock::now() < until) {
      all = true;
      for (size_t i = 0; i < loops.size(); ++i)
        all = all && loops[i]->runtimes_served() > served[i];
      if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!all) retired.push_back(std::move(current));
    current = std::move(*next);
    cache.reconfigure(cache_settings(current.runtime->config->cache));
    refresher = std::make_unique<AddressRefresher>(
        current.runtime, current.addresses, io::resolve_address, std::chrono::steady_clock::now());
    return std::string(kReloadReady);
  };

  bool draining = false;
  // The cut comes timeouts.shutdown after the stop signal, to the millisecond: the whole
  // timespec counts (comparing tv_sec alone cut anywhere up to a second early).
  std::chrono::steady_clock::time_point deadline{};
  auto drain = [&] {
    if (draining) return;
    draining = true;
    LOG_INFO("stopping: finishing in-flight requests");
    for (auto& loop : loops) loop->request_drain();
    deadline = std::chrono::steady_clock::now() + current.runtime->config->timeouts.shutdown;
  };
  for (;;) {
    timespec tick{0, 100 * 1000 * 1000};
    if (draining) {  // wake at the deadline itself, not at the tick after it
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left < tick.tv_nsec) tick.tv_nsec = left > 0 ? static_cast<long>(left) : 1;
    }
    pollfd fds[2] = {{signals.get(), POLLIN, 0}, {channel.get(), POLLIN, 0}};
    const nfds_t nfds = channel && !draining ? 2 : 1;
    const int ready_fds = ppoll(fds, nfds, &tick, nullptr);
    if (ready_fds > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo si;
      while (::read(signals.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        const int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
          drain();
        } else if (sig == SIGUSR1) {
          if (current.runtime->access_log && !current.runtime->access_log->reopen())
            LOG_ERROR("cannot reopen the access log: %m");
        }
      }
    }
    if (ready_fds > 0 && nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      auto message = receive_message(channel.get(), kOrderBound);
      if (!message) {
        // The main process is gone (or spoke garbage): nobody can reload this worker again.
        if (message.error() == "closed") {
          channel.reset();
          drain();
        } else {
          LOG_ERROR("reload order unreadable: %s", message.error().c_str());
        }
      } else {
        const std::string answer = reload(std::move(*message));
        if (answer != kReloadReady) LOG_ERROR("cannot serve the new config: %s", answer.c_str());
        if (!send_message(channel.get(), answer))
          LOG_ERROR("cannot answer the main process: %s", strerror(errno));
      }
    }
    if (running.load() == 0) break;
    update_ticket_keys();
    if (auto next = refresher->poll(std::chrono::steady_clock::now()); next && !draining) {
      current.runtime = next;
      for (auto& loop : loops) loop->offer_runtime(next);
    }
    if (draining) {
      if (std::chrono::steady_clock::now() >= deadline) {
        LOG_WARN("timeouts.shutdown reached: cutting the requests still in flight");
        cache.discard_fills();  // no fill's temporary file outlives the worker
        _exit(0);
      }
    }
    if (getppid() != parent) drain();  // orphaned: the main process is gone
  }
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace proxy
