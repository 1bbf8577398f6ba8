// SPDX-License-Identifier: MIT
#include "proxy/address_refresher.h"

#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>

#include "proxy/base/log.h"

namespace proxy {

AddressRefresher::AddressRefresher(std::shared_ptr<const Runtime> runtime,
                                   ServerAddresses addresses, Resolver resolve,
                                   Clock::time_point now)
    : runtime_(std::move(runtime)), addresses_(std::move(addresses)), resolve_(std::move(resolve)) {
  const auto& config = *runtime_->config;
  interval_ = config.resolve_interval;
  enabled_ = interval_.count() > 0 && has_host_names(config);
  next_ = now + interval_;
}

std::shared_ptr<const Runtime> AddressRefresher::poll(Clock::time_point now) {
  if (!enabled_) return nullptr;
  if (!pending_) {
    if (now < next_) return nullptr;
    next_ = now + interval_;
    // The lookups block (getaddrinfo): they run on their own thread, with copies of what they
    // use, so the event loops and signal handling never wait for DNS.
    pending_ = std::make_shared<Pending>();
    try {  // std::thread reports a failed pthread_create only by throwing
      std::thread([p = pending_, config = runtime_->config, last = addresses_, resolve = resolve_] {
        ServerRefresh r = refresh_servers(*config, last, resolve);
        std::lock_guard<std::mutex> lock(p->mutex);
        p->result = std::move(r);
      }).detach();
    } catch (const std::system_error& e) {
      LOG_WARN("cannot re-resolve the servers now (no thread: %s); trying again in %llds",
               strerror(e.code().value()),
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::seconds>(interval_).count()));
      pending_.reset();
    }
    return nullptr;
  }
  std::optional<ServerRefresh> result;
  {
    std::lock_guard<std::mutex> lock(pending_->mutex);
    result = std::move(pending_->result);
  }
  if (!result) return nullptr;
  pending_.reset();
  ServerRefresh& r = *result;
  for (const auto& w : r.warnings) LOG_WARN("%s", w.c_str());
  if (!r.changed) return nullptr;
  auto next = Runtime::build(runtime_->config, runtime_->tls, &r.addresses, runtime_->access_log);
  if (!next) {
    LOG_ERROR("re-resolved servers not used: %s", next.error().c_str());
    return nullptr;
  }
  for (const auto& c : r.changes) LOG_INFO("%s", c.c_str());
  addresses_ = std::move(r.addresses);
  runtime_ = std::move(*next);
  return runtime_;
}

}  // namespace proxy
