// SPDX-License-Identifier: MIT
// The cache lookup stage (RFC 9111 4): what a GET or HEAD finds in the cache decides whether the
// backend is asked at all.
#include "cache/cache.h"
#include "cache/cache_control.h"
#include "cache/compressed_variant.h"
#include "cache/policy.h"
#include "proxy/background_fetch.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/stages/cache_common.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {
namespace {

void count(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// A request that asks for part of the representation, or for it only under a condition: its
// answer (206, 304, 412) is not a whole response to store, so it does not lead a fill.
bool partial_or_conditional(const http::RequestHead& req) {
  for (const auto& h : req.headers) {
    const std::string_view n = h.name;
    if (http::iequals(n, "range") || http::iequals(n, "if-range") ||
        http::iequals(n, "if-none-match") || http::iequals(n, "if-modified-since") ||
        http::iequals(n, "if-match") || http::iequals(n, "if-unmodified-since"))
      return true;
  }
  return false;
}

bool has_range(const http::RequestHead& req) {
  return req.headers.find("range") != nullptr;
}

// cache.compress: the identity object of the key, as the store stage keeps a compressible
// response (its Accept-Encoding value that of a request accepting no coding).
cache::ObjectRef identity_object(cache::Cache& store, const cache::CacheKey& key,
                                 const http::RequestHead& req) {
  return store.lookup(key, [&req](std::string_view names) {
    std::string values;
    cache::vary_values(names, req.headers, values, true);
    return values;
  });
}

// cache.compress, on a miss: the request's variant is not stored, but the identity object may
// be. A request that accepts an enabled coding gets its compressed variant, made once here
// from a fresh identity object and stored under the request's own Accept-Encoding key (so the
// next request like it hits); any other request (or one for an object too large to compress
// while the client waits, kMaxCompressOnHit) gets the identity object, which every client
// accepts. Null when there is no identity object either.
cache::ObjectRef compressed_from_identity(Exchange& ex, cache::CodingSet codings,
                                          cache::UnixTime now) {
  auto& c = ex.caching;
  const auto& req = ex.request;
  auto identity = identity_object(*c.cache, c.key, req);
  if (!identity) return nullptr;
  // Only an identity object kept for compression stands in for other Accept-Encoding values;
  // the backend's own variants keep their exact keys (the request goes to the backend).
  if (!cache::compressible_object(identity->head())) return nullptr;
  std::string_view accept;
  std::string joined;
  for (const auto& h : req.headers) {
    if (!http::iequals(h.name, "accept-encoding")) continue;
    if (accept.empty() && joined.empty()) {
      accept = h.value;
      continue;
    }
    if (joined.empty()) joined.assign(accept);
    joined.append(",").append(h.value);
  }
  if (!joined.empty()) accept = joined;
  const cache::Coding coding = cache::choose_coding(accept, codings);
  if (coding == cache::Coding::kIdentity || !cache::may_compress(*identity) ||
      cache::decide_reuse(identity->head().freshness(), req, now) != cache::Reuse::kFresh)
    return identity;
  std::string variant;
  cache::vary_values(identity->head().vary(), req.headers, variant);
  auto made = cache::compress_variant(*c.cache, identity, coding, std::move(variant));
  return made ? made : identity;
}

Next wait_for_fill(Exchange& ex);

// The leader's response may vary on fields this request sends otherwise (RFC 9111 4.1): then
// it is not this request's answer, and this request goes to the backend itself.
bool same_variant(const http::RequestHead& req, const cache::Object& object) {
  const auto& head = object.head();
  if (head.vary().empty()) return true;
  std::string values;
  cache::vary_values(head.vary(), req.headers, values);
  return values == head.variant();
}

// The fill this exchange waits on moved (on another thread, maybe): look again on ours.
void on_fill_wake(void* arg) {
  Exchange& ex = *static_cast<Exchange*>(arg);
  auto& c = ex.caching;
  if (!c.pending) return;
  c.pending->unsubscribe(&*c.waker);
  const Next next = wait_for_fill(ex);
  if (next != Next::kSuspend) pipeline::resume(ex, next);
}

// A coalesced miss: the leader's response, once its head is in, is either an object being
// filled (served from as it streams in) or not storable (this request goes to the backend too).
Next wait_for_fill(Exchange& ex) {
  auto& c = ex.caching;
  auto& stats = c.cache->stats();
  for (;;) {
    switch (c.pending->state()) {
      case cache::PendingFill::State::kObject:
        if (auto object = c.pending->object(); object && same_variant(ex.request, *object)) {
          c.pending.reset();
          count(stats.hits);
          return serve_object(ex, std::move(object), CacheStatus::kHit);
        }
        [[fallthrough]];
      case cache::PendingFill::State::kUncacheable:
      case cache::PendingFill::State::kFailed:
      case cache::PendingFill::State::kError:
        // A revalidation whose leader's backend just failed: the stale object stands in for
        // this request too when it may (RFC 9111 4.2.4), rather than one more try each.
        if (c.stored && c.pending->state() == cache::PendingFill::State::kError &&
            cache::may_serve_stale_on_error(c.stored->head().freshness(), ex.request,
                                            cache_now(ex))) {
          c.pending.reset();
          count(stats.stale);
          auto stale = std::move(c.stored);
          c.revalidating = false;
          return serve_object(ex, std::move(stale), CacheStatus::kStale);
        }
        c.pending.reset();
        c.no_fill = true;  // the leader found it not storable (or failed): no second fill
        count(stats.misses);
        return Next::kContinue;
      case cache::PendingFill::State::kWaiting:
        if (!c.waker) c.waker.emplace(*ex.loop, on_fill_wake, &ex);
        if (c.pending->subscribe(&*c.waker)) return Next::kSuspend;
        break;  // settled in between: look again
    }
  }
}

// RFC 9111 4.3.1: ask the backend whether the stored response is still good. Concurrent
// revalidations of one key make one conditional request (RFC 9111 4: a cache may collapse
// them): the first GET leads it, the others wait for its outcome as misses wait for a fill,
// and keep what they need to revalidate by themselves if it fails. A HEAD neither leads nor
// waits (its answer, a 200 without a body, refreshes no waiter).
Next revalidate(Exchange& ex, cache::ObjectRef object) {
  auto& c = ex.caching;
  c.fields.clear();
  cache::decode_fields(object->head().fields(), c.fields);
  cache::validators_for(c.fields, c.validators);
  c.fields.clear();
  c.stored = std::move(object);
  c.revalidating = true;
  c.status = CacheStatus::kMiss;
  count(c.cache->stats().revalidations);
  if (ex.request.method != http::Method::kGet) return Next::kContinue;
  bool uncacheable = false;
  c.pending = c.cache->join_or_lead(c.key, &uncacheable);
  if (c.pending) return wait_for_fill(ex);
  if (!uncacheable) c.lead = true;
  return Next::kContinue;
}

}  // namespace

Next cache_lookup(Exchange& ex) {
  auto& c = ex.caching;
  cache::Cache* store = ex.loop->shared().cache;
  if (!store || !ex.runtime->config->cache.enabled) return Next::kContinue;
  c.cache = store;
  if (c.background) return Next::kContinue;  // set up by its BackgroundFetch
  auto& stats = store->stats();
  const auto& req = ex.request;
  c.key = request_key(ex);
  c.keyed = true;
  const bool lookup_method = req.method == http::Method::kGet || req.method == http::Method::kHead;
  const bool rule_bypass = ex.rule && ex.rule->cache && ex.rule->cache->bypass;
  if (!lookup_method || req.upgrade_websocket || rule_bypass) {
    c.status = CacheStatus::kBypass;  // unsafe methods still invalidate (cache_store)
    count(stats.bypass);
    return Next::kContinue;
  }
  const cache::UnixTime now = cache_now(ex);
  c.request_time = now;
  const cache::CodingSet codings = compress_codings(ex);
  const bool compressing = codings.gzip || codings.br;
  cache::ObjectRef object;
  if (compressing && has_range(req)) {
    object = identity_object(*store, c.key, req);  // never a range of a compressed variant
  } else {
    object = store->lookup(c.key, [&req](std::string_view names) {
      std::string values;
      cache::vary_values(names, req.headers, values);
      return values;
    });
    if (!object && compressing) object = compressed_from_identity(ex, codings, now);
  }
  const bool only_if_cached = cache::parse_cache_control(req.headers).only_if_cached;
  if (object) {
    switch (cache::decide_reuse(object->head().freshness(), req, now)) {
      case cache::Reuse::kFresh:
        count(stats.hits);
        return serve_object(ex, std::move(object), CacheStatus::kHit);
      case cache::Reuse::kStaleWhileRevalidate:
        count(stats.stale);
        BackgroundFetch::refresh(ex, object);
        return serve_object(ex, std::move(object), CacheStatus::kStale);
      case cache::Reuse::kRevalidate:
        break;
    }
    if (!only_if_cached) return revalidate(ex, std::move(object));
  }
  c.status = CacheStatus::kMiss;
  if (only_if_cached) {
    // RFC 9111 5.2.1.7: nothing usable stored, and the client forbids asking the backend.
    count(stats.misses);
    ex.status = 504;
    ex.error_detail = "only-if-cached: not in the cache";
    return Next::kRespond;
  }
  const bool request_no_store = cache::parse_cache_control(req.headers).no_store;
  if (req.method == http::Method::kHead || partial_or_conditional(req)) {
    // Its own answer (a head, a 206, a 304) is no whole response to store. As nginx and Varnish
    // do, the whole GET response is fetched instead (once, in the background, as the key's
    // fill) and this request is answered from the filling object: the next requests for the
    // key hit, and a Range of a big archive is served as its bytes stream in. A response that
    // turns out not storable sends this request to the backend as it came (the key is then
    // remembered as uncacheable: the next ones go there at once).
    if (!request_no_store && BackgroundFetch::fill(ex)) {
      bool uncacheable = false;
      c.pending = store->join_or_lead(c.key, &uncacheable);
      if (c.pending) return wait_for_fill(ex);
      // The fetch settled already (a backend that failed at once): no fill to wait on.
      if (!uncacheable) store->settle_failed(c.key);
    }
    count(stats.misses);
    c.no_fill = true;
    return Next::kContinue;
  }
  if (request_no_store) {
    // RFC 9111 5.2.1.5: its response is not stored, so it leads no fill (it may not fill, and
    // the key must not be judged uncacheable by it).
    count(stats.misses);
    c.no_fill = true;
    return Next::kContinue;
  }
  bool uncacheable = false;
  c.pending = store->join_or_lead(c.key, &uncacheable);
  if (!c.pending) {
    count(stats.misses);
    if (uncacheable)
      c.no_fill = true;  // found not storable a moment ago: no queue behind it
    else
      c.lead = true;
    return Next::kContinue;
  }
  return wait_for_fill(ex);
}

}  // namespace proxy::stages
