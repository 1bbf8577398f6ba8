// SPDX-License-Identifier: MIT
#include "proxy/address_refresher.h"

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

AddressRefresher::~AddressRefresher() {
  if (pending_.valid()) pending_.wait();
}

std::shared_ptr<const Runtime> AddressRefresher::poll(Clock::time_point now) {
  if (!enabled_) return nullptr;
  if (!pending_.valid()) {
    if (now < next_) return nullptr;
    next_ = now + interval_;
    // The lookups block (getaddrinfo): they run on their own thread, with copies of what they use.
    pending_ = std::async(std::launch::async,
                          [config = runtime_->config, last = addresses_, resolve = resolve_] {
                            return refresh_servers(*config, last, resolve);
                          });
    return nullptr;
  }
  if (pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return nullptr;
  ServerRefresh r = pending_.get();
  for (const auto& w : r.warnings) LOG_WARN("%s", w.c_str());
  if (!r.changed) return nullptr;
  auto next = Runtime::build(runtime_->config, runtime_->tls, &r.addresses);
  if (!next) {
    LOG_ERROR("re-resolved servers not used: %s", next.error().c_str());
    return nullptr;
  }
  LOG_INFO("servers re-resolved: new requests use the new addresses");
  addresses_ = std::move(r.addresses);
  runtime_ = std::move(*next);
  return runtime_;
}

}  // namespace proxy
