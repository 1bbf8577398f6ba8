// SPDX-License-Identifier: MIT
#include "proxy/background_fetch.h"

#include <netinet/in.h>

#include <cstring>

#include "cache/cache.h"
#include "cache/policy.h"
#include "proxy/body_producer.h"
#include "proxy/exchange.h"
#include "proxy/pipeline.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {
namespace {

// The client's own conditions and ranges are not the refresh's: it asks for the whole response
// (or, conditionally, about our copy).
bool left_out(std::string_view name) {
  using http::iequals;
  return iequals(name, "range") || iequals(name, "if-range") || iequals(name, "if-none-match") ||
         iequals(name, "if-modified-since") || iequals(name, "if-match") ||
         iequals(name, "if-unmodified-since") || iequals(name, "cache-control") ||
         iequals(name, "pragma") || iequals(name, "content-length") ||
         iequals(name, "transfer-encoding");
}

}  // namespace

void BackgroundFetch::refresh(const Exchange& origin, const cache::ObjectRef& stale) {
  start(origin, stale);
}

bool BackgroundFetch::fill(const Exchange& origin) {
  return start(origin, nullptr);
}

bool BackgroundFetch::start(const Exchange& origin, const cache::ObjectRef& stale) {
  const ExchangeCache& oc = origin.caching;
  if (!oc.cache || !oc.keyed) return false;
  bool uncacheable = false;
  // Leading the key's fill makes later misses wait for this fetch rather than ask again; a
  // fill already in flight refreshes (or fills) the key anyway.
  if (auto pending = oc.cache->join_or_lead(oc.key, &uncacheable)) return true;
  if (uncacheable) return false;
  auto* f = new BackgroundFetch(*origin.loop, origin);
  Exchange& ex = *f->ex_;
  ExchangeCache& c = ex.caching;
  c.cache = oc.cache;
  c.key = oc.key;
  c.keyed = true;
  c.lead = true;
  c.background = true;
  c.status = CacheStatus::kMiss;
  c.request_time = origin.loop->cached_seconds();
  if (stale) {
    c.fields.clear();
    cache::decode_fields(stale->head().fields(), c.fields);
    cache::validators_for(c.fields, c.validators);
    c.fields.clear();
    c.stored = stale;
    c.revalidating = true;
  }
  if (origin.internal_redirects > 0) {
    // An X-Accel-Redirect to a pool rewrote the request: it goes to that pool, not through the
    // routes (which refuse internal prefixes), starting where a redirect does.
    ex.rule = origin.rule;
    ex.pool = origin.pool;
    ex.internal_redirects = origin.internal_redirects;
    pipeline::resume(ex, Next::kRedirect);  // may finish (and free the fetch) before it returns
    return true;
  }
  pipeline::start(ex);  // may finish (and free the fetch) before it returns
  return true;
}

bool BackgroundFetch::adopt(Exchange& ex) {
  // Only a fill whose backend is still sending the body, with the whole request sent.
  if (!ex.caching.writer || !ex.upstream || ex.upstream_done || !ex.request_complete ||
      ex.body_streaming || !ex.loop)
    return false;
  ex.aborted = true;  // what the client saw: a cut
  pipeline::finish(ex);
  ex.aborted = false;
  new BackgroundFetch(*ex.loop, ex);
  return true;
}

BackgroundFetch::BackgroundFetch(EventLoop& loop, Exchange& ex)
    : loop_(loop),
      listener_(ex.downstream->listener()),
      tls_(ex.downstream->tls()),
      ex_(&ex),
      logged_(true) {
  copy_peer(*ex.downstream);
  // The request's views point into the departed client's buffers; the backend has it already,
  // and only its method is still consulted (retry and failure decisions).
  const http::Method method = ex.request.method;
  ex.request.clear();
  ex.request.method = method;
  ex.raw_request_line = {};
  ex.downstream = this;
  ex.out.reset();  // the client's share of the body: nobody reads it now
  loop.add_connection(this);
  if (ex.upstream) ex.upstream->output_drained();  // read on, at the backend's pace
}

void BackgroundFetch::copy_peer(const Downstream& from) {
  if (const sockaddr* p = from.peer()) {
    const size_t len = p->sa_family == AF_INET    ? sizeof(sockaddr_in)
                       : p->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                  : sizeof(sa_family_t);
    memcpy(&peer_, p, len);
  }
}

BackgroundFetch::BackgroundFetch(EventLoop& loop, const Exchange& origin)
    : loop_(loop), listener_(origin.downstream->listener()), tls_(origin.downstream->tls()) {
  copy_peer(*origin.downstream);
  ex_ = loop.acquire_exchange();
  Exchange& ex = *ex_;
  ex.downstream = this;
  ex.runtime = origin.runtime;
  ex.id = loop.shared().next_id.fetch_add(1, std::memory_order_relaxed);
  ex.started = base::now();
  memcpy(ex.client_ip, origin.client_ip, origin.client_ip_len);
  ex.client_ip_len = origin.client_ip_len;
  copy_request(origin);
  ex.request_complete = true;
  loop.add_connection(this);
}

void BackgroundFetch::copy_request(const Exchange& origin) {
  const auto& from = origin.request;
  size_t total = from.path.size() + from.query.size() + from.authority.size() + 8;
  for (const auto& h : from.headers) total += h.name.size() + h.value.size();
  storage_.reserve(total);  // views into it stay valid: it never grows past this
  auto keep = [this](std::string_view s) {
    const size_t at = storage_.size();
    storage_.append(s);
    return std::string_view(storage_.data() + at, s.size());
  };
  auto& req = ex_->request;
  req.method_name = "GET";
  req.method = http::Method::kGet;
  req.path = keep(from.path);
  req.query = keep(from.query);
  req.has_query = from.has_query;
  req.target = req.path;
  req.authority = keep(from.authority);
  req.version_minor = 1;
  req.http2 = false;
  req.framing = http::Framing::kNone;
  req.keep_alive = true;
  for (const auto& h : from.headers) {
    if (left_out(h.name)) continue;
    const std::string_view name = keep(h.name);
    req.headers.push(name, keep(h.value));
  }
}

void BackgroundFetch::output_ready() {
  if (finished_ || !ex_) return;
  Exchange& ex = *ex_;
  ex.out.reset();  // nobody reads it
  if (ex.upstream_done) {
    finish();
    return;
  }
  if (ex.upstream)
    ex.upstream->output_drained();
  else if (ex.producer)
    ex.producer->output_drained();
}

void BackgroundFetch::finish() {
  finished_ = true;
  if (!logged_) pipeline::finish(*ex_);
  loop_.release_exchange(ex_);
  ex_ = nullptr;
  loop_.remove_connection(this);
  delete this;
}

}  // namespace proxy
