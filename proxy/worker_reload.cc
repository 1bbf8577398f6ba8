// SPDX-License-Identifier: MIT
#include "proxy/worker_reload.h"

#include <thread>

#include "conf/loader.h"
#include "proxy/access_log.h"
#include "proxy/tls_contexts.h"

namespace proxy {

size_t thread_count(const conf::Config& config) {
  if (config.workers > 0) return static_cast<size_t>(config.workers);
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

std::string needs_new_worker(const conf::Config& running, const conf::Config& next) {
  if (running.user != next.user) return "the user changed";
  if (thread_count(running) != thread_count(next)) return "the number of workers changed";
  if (running.limits.max_request_header != next.limits.max_request_header)
    return "limits.max_request_header changed";
  // The disk tier is opened (and its index rebuilt) with the worker's cache; its size may change
  // in place, not its directory.
  const auto disk_path = [](const conf::Config& c) {
    return c.cache.disk ? c.cache.disk->path : std::string();
  };
  if (disk_path(running) != disk_path(next)) return "cache.disk.path changed";
  return {};
}

base::Expected<WorkerGeneration, std::string> build_generation(
    ReloadOrder&& order, const WorkerGeneration& running,
    const std::shared_ptr<tls::TicketKeys>& keys, std::time_t now) {
  using base::unexpected;
  // The worker may not read the key files: their contents came with the order.
  conf::LoadResult loaded = conf::load_string(order.config_text, order.config_name, false);
  if (!loaded.config) {
    for (const auto& p : loaded.problems)
      if (!p.warning) return unexpected("the config does not load: " + conf::format_problem(p));
    return unexpected(std::string("the config does not load"));
  }
  const conf::Config& config = *loaded.config;
  if (auto why = needs_new_worker(*running.runtime->config, config); !why.empty())
    return unexpected("cannot be applied in place: " + why);

  auto contexts = build_tls_contexts(config, now, keys, &order.tls_files);
  tls::cleanse(order.tls_files);
  if (!contexts) return unexpected(contexts.error());

  std::shared_ptr<AccessLog> log;
  if (!config.access_log.path.empty()) {
    if (order.access_log_fd < 0)
      return unexpected("no descriptor for access log " + config.access_log.path);
    log = std::make_shared<AccessLog>();
    log->adopt(config.access_log.path, AccessLog::format_named(config.access_log.format),
               std::move(order.fds[static_cast<size_t>(order.access_log_fd)]));
  }

  WorkerGeneration gen;
  gen.number = order.generation;
  // As the main process commits its plan: each running socket goes to one listener at most.
  std::vector<bool> taken(running.sockets.size(), false);
  for (const auto& l : order.listeners) {
    WorkerSocket s{l.name, l.address, false, nullptr};
    for (const auto& c : config.listeners)
      if (c.name == l.name) s.admin = c.admin;
    if (l.fd >= 0) {
      s.fd =
          std::make_shared<const base::UniqueFd>(std::move(order.fds[static_cast<size_t>(l.fd)]));
    } else {
      for (size_t i = 0; i < running.sockets.size() && !s.fd; ++i)
        if (!taken[i] && running.sockets[i].address == l.address) {
          taken[i] = true;
          s.fd = running.sockets[i].fd;
        }
    }
    if (!s.fd || !*s.fd) return unexpected("listener " + l.name + ": no socket for " + l.address);
    gen.sockets.push_back(std::move(s));
  }
  auto runtime = Runtime::build(loaded.config, std::move(*contexts), &order.addresses, log);
  if (!runtime) return unexpected(runtime.error());
  gen.runtime = std::move(*runtime);
  gen.addresses = std::move(order.addresses);
  return gen;
}

std::shared_ptr<const ListenerSet> listener_set(const WorkerGeneration& gen) {
  auto set = std::make_shared<ListenerSet>();
  for (const auto& s : gen.sockets) {
    set->listeners.push_back(ListenerRef{s.name, s.fd->get(), s.admin});
    set->sockets.push_back(s.fd);
  }
  return set;
}

}  // namespace proxy
