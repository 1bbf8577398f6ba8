// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "proxy/runtime.h"
#include "proxy/server_addresses.h"

namespace proxy {

// A worker's schedule of re-resolution: every config.resolve_interval, the host names of its
// servers are looked up again off the event loops. A failed lookup keeps the last good address
// (logged as a warning); when an address changed, poll() returns a new Runtime (same config and
// TLS contexts) for the event loops to serve new requests with.
class AddressRefresher {
 public:
  using Clock = std::chrono::steady_clock;

  AddressRefresher(std::shared_ptr<const Runtime> runtime, ServerAddresses addresses,
                   Resolver resolve, Clock::time_point now);
  // A lookup in flight is left to finish on its own: a worker that stops never waits for DNS.
  ~AddressRefresher() = default;
  AddressRefresher(const AddressRefresher&) = delete;
  AddressRefresher& operator=(const AddressRefresher&) = delete;

  // Called often from the worker's control thread; returns the runtime to publish, or null.
  std::shared_ptr<const Runtime> poll(Clock::time_point now);

 private:
  std::shared_ptr<const Runtime> runtime_;
  ServerAddresses addresses_;
  Resolver resolve_;
  bool enabled_ = false;
  Clock::duration interval_{};
  Clock::time_point next_;
  struct Pending {
    std::mutex mutex;
    std::optional<ServerRefresh> result;  // guarded by mutex
  };
  std::shared_ptr<Pending> pending_;  // null: no lookup in flight
};

}  // namespace proxy
