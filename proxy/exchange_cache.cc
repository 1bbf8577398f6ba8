// SPDX-License-Identifier: MIT
#include "proxy/exchange_cache.h"

namespace proxy {

std::string_view cache_status_name(CacheStatus s) {
  switch (s) {
    case CacheStatus::kNone:
      return "";
    case CacheStatus::kHit:
      return "HIT";
    case CacheStatus::kMiss:
      return "MISS";
    case CacheStatus::kStale:
      return "STALE";
    case CacheStatus::kRevalidated:
      return "REVALIDATED";
    case CacheStatus::kBypass:
      return "BYPASS";
  }
  return "";
}

void ExchangeCache::reset() {
  body.reset();  // unsubscribes from its object first
  if (waker && pending) pending->unsubscribe(&*waker);
  waker.reset();
  pending.reset();
  if (writer) writer->abort();  // a body that did not end whole is never stored
  writer.reset();
  if (lead && cache) cache->settle_failed(key);
  lead = false;
  stored.reset();
  served.reset();
  validators.clear();
  fields.clear();
  status = CacheStatus::kNone;
  cache = nullptr;
  keyed = no_fill = revalidating = background = detach_upstream = false;
  request_time = 0;
}

}  // namespace proxy
