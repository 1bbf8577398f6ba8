// SPDX-License-Identifier: MIT
// What one exchange knows about the cache: the lookup's outcome, the object it is served from,
// the fill it waits on or feeds. Kept inside the Exchange (recycled with it), so a hit allocates
// nothing for it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "cache/cache_key.h"
#include "cache/freshness.h"
#include "cache/object.h"
#include "proxy/cache_body.h"
#include "proxy/http/headers.h"
#include "proxy/loop_waker.h"

namespace proxy {

// What the status header (cache.status_header) and the access log say.
enum class CacheStatus : uint8_t { kNone, kHit, kMiss, kStale, kRevalidated, kBypass };
std::string_view cache_status_name(CacheStatus s);  // "HIT", ...; "" for kNone

struct ExchangeCache {
  CacheStatus status = CacheStatus::kNone;  // kNone: the config has no cache (nothing is sent)
  cache::Cache* cache = nullptr;            // the worker's, while this exchange uses it
  cache::CacheKey key;
  bool keyed = false;            // |key| is this request's
  bool lead = false;             // this exchange leads a coalesced fill: it must settle it
  bool no_fill = false;          // the response is not to be stored (a conditional or HEAD miss...)
  bool revalidating = false;     // the backend request carries |validators| for |stored|
  bool background = false;       // a background refresh (background_fetch.h): no client
  bool detach_upstream = false;  // the backend's response is not sent: the object is (304, 5xx)
  cache::UnixTime request_time = 0;
  // The stored object a revalidation (or a stale-if-error) is about.
  cache::ObjectRef stored;
  std::string validators;  // If-None-Match / If-Modified-Since lines for the backend
  // The coalesced fill this exchange waits on, and its wake.
  std::shared_ptr<cache::PendingFill> pending;
  std::optional<LoopWaker> waker;
  // The fill this exchange feeds with the backend's body (the upstream tees into it).
  std::unique_ptr<cache::ObjectWriter> writer;
  // Serving from the cache: the decoded fields of the object's head (views into it) and the
  // producer of its body (Exchange::producer points here).
  http::HeaderList fields;
  cache::ObjectRef served;
  std::optional<CacheBody> body;

  bool serving() const { return body.has_value(); }
  // Ends what is pending (an unsettled lead is settled as failed, a fill still open aborted)
  // and forgets it all.
  void reset();
};

}  // namespace proxy
