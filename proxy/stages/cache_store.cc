// SPDX-License-Identifier: MIT
// The cache store stage: the backend's head is in (or a local answer replaced it). It decides
// what the cache makes of the response before the deliver stage sends anything.
#include <cctype>
#include <string>

#include "cache/cache.h"
#include "cache/cache_control.h"
#include "cache/compressed_variant.h"
#include "cache/compression.h"
#include "cache/policy.h"
#include "proxy/exchange.h"
#include "proxy/stages/cache_common.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {
namespace {

void count(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

enum class Outcome : uint8_t { kUncacheable, kFailed, kBackendError };

// A coalesced lead whose response will not fill: the waiters go to the backend themselves (or,
// after a backend error, may serve their stale copy).
void settle(Exchange& ex, Outcome outcome) {
  auto& c = ex.caching;
  if (!c.lead) return;
  c.lead = false;
  switch (outcome) {
    case Outcome::kUncacheable:
      c.cache->settle_uncacheable(c.key);
      break;
    case Outcome::kFailed:
      c.cache->settle_failed(c.key);
      break;
    case Outcome::kBackendError:
      c.cache->settle_error(c.key);
      break;
  }
}

// The backend's response is not what the client gets (a stored object is): the upstream lets
// go of it once the pipeline is back (upstream_connection.cc).
Next serve_instead(Exchange& ex, cache::ObjectRef object, CacheStatus status) {
  if (!ex.local_response) ex.caching.detach_upstream = true;
  ex.local_response = false;
  ex.error_detail = "";
  const Next next = serve_object(ex, std::move(object), status);
  // on to deliver, which writes the object's head (or a stored decision's refusal)
  return next == Next::kServe ? Next::kContinue : next;
}

// RFC 9111 4.4: a non-error response to an unsafe method invalidates the target URI and the
// URIs in Location and Content-Location, when they are on the same host (lest a backend
// invalidate another's objects).
void invalidate(Exchange& ex) {
  auto& c = ex.caching;
  const auto inv = cache::invalidation_for(ex.request, ex.response);
  if (inv.target && c.keyed) c.cache->purge(c.key);
  const bool include_scheme = !ex.runtime->config->cache.share_http_https;
  const std::string_view host = authority_host(ex.request.authority);
  for (std::string_view url : {inv.location, inv.content_location}) {
    if (url.empty()) continue;
    if (const size_t scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
      std::string_view rest = url.substr(scheme_end + 3);
      rest = rest.substr(0, rest.find_first_of("/?#"));
      if (!http::iequals(authority_host(rest), host)) continue;
    }
    cache::CacheKey key;
    if (cache::key_for_url(url, request_scheme(ex), ex.request.authority, include_scheme, key))
      c.cache->purge(key);
  }
}

// Whether the stored ETag is W/ + the 304's strong one: the stored object is a variant
// gatehouse compressed (compressed_head weakens the identity object's tag, RFC 9110 8.8.3).
bool weakened_etag(const http::HeaderList& stored, const http::HeaderList& update) {
  const auto* old_tag = stored.find("etag");
  const auto* new_tag = update.find("etag");
  return old_tag && new_tag && !new_tag->value.starts_with("W/") &&
         old_tag->value.size() == new_tag->value.size() + 2 && old_tag->value.starts_with("W/") &&
         old_tag->value.substr(2) == new_tag->value;
}

// RFC 9111 3.2 / 4.3.4: the stored object with its head updated by the backend's fields (a
// 304's, or a HEAD's 200, 4.3.5): fields merged, freshness judged again as of now. Null if the
// merged response may not be stored (the stored object is then left as it was).
cache::ObjectRef update_stored(Exchange& ex, const cache::PolicyConfig& policy,
                               cache::UnixTime now) {
  auto& c = ex.caching;
  const auto& stored = c.stored;
  http::HeaderList old_fields;
  cache::decode_fields(stored->head().fields(), old_fields);
  cache::ObjectHead head = stored->head().to_owned();
  head.fields.clear();
  const http::HeaderList* update = &ex.response.headers;
  http::HeaderList kept_weak;
  if (weakened_etag(old_fields, ex.response.headers)) {
    // A variant gatehouse compressed keeps its weak tag (the bytes are not the backend's).
    for (const auto& f : ex.response.headers)
      if (!http::iequals(f.name, "etag")) kept_weak.push(f.name, f.value);
    update = &kept_weak;
  }
  cache::merge_not_modified(old_fields, *update, head.fields, policy.targeted_header);
  http::ResponseHead merged;
  merged.status = head.status;
  merged.framing = http::Framing::kLength;
  merged.content_length = head.body_size.value_or(0);
  cache::decode_fields(head.fields, merged.headers);
  http::RequestHead as_get;  // the stored object answers GET: judged as one (4.3.5)
  const http::RequestHead* req = &ex.request;
  if (ex.request.method == http::Method::kHead) {
    as_get.method = http::Method::kGet;
    as_get.headers = ex.request.headers;
    req = &as_get;
  }
  const auto decision = cache::decide_store(*req, merged, c.request_time, now, policy);
  if (!decision.store) return nullptr;
  head.freshness = decision.freshness;
  return c.cache->refresh(stored, std::move(head));
}

// RFC 9111 4.3.5: whether a HEAD's 200 describes the stored GET response: the validators it
// carries (ETag, Last-Modified) and its Content-Length, if any, match the stored ones.
bool head_matches_stored(const http::ResponseHead& resp, const cache::Object& stored) {
  http::HeaderList fields;
  cache::decode_fields(stored.head().fields(), fields);
  for (std::string_view name : {"etag", "last-modified"}) {
    const auto* got = resp.headers.find(name);
    if (!got) continue;
    const auto* had = fields.find(name);
    if (!had || had->value != got->value) return false;
  }
  if (const auto* cl = resp.headers.find("content-length")) {
    const auto size = stored.head().body_size();
    if (!size || std::to_string(*size) != cl->value) return false;
  }
  return true;
}

// RFC 9111 4.3.5: a HEAD sent for a stale stored GET response came back 200. Its fields update
// the stored head when it describes the same representation; otherwise the stored response is
// considered stale (the next GET revalidates). The client gets the backend's answer.
Next update_from_head(Exchange& ex, const cache::PolicyConfig& policy, cache::UnixTime now) {
  auto& c = ex.caching;
  if (ex.response.status != 200) return Next::kContinue;
  if (head_matches_stored(ex.response, *c.stored)) {
    update_stored(ex, policy, now);
    return Next::kContinue;
  }
  cache::ObjectHead head = c.stored->head().to_owned();
  head.freshness.lifetime = 0;
  head.freshness.stale_while_revalidate = 0;
  c.cache->refresh(c.stored, std::move(head));
  return Next::kContinue;
}

// RFC 9111 4.3.4: the 304 refreshes the stored head, and the object is served from it.
Next refresh(Exchange& ex, const cache::PolicyConfig& policy, cache::UnixTime now) {
  auto& c = ex.caching;
  const auto& stored = c.stored;
  cache::ObjectRef fresh = update_stored(ex, policy, now);
  count(c.cache->stats().revalidated);
  // The revalidation this exchange led is over: its waiters get the object it validated.
  if (c.lead) {
    c.lead = false;
    c.cache->settle_object(c.key, fresh ? fresh : stored);
  }
  return serve_instead(ex, fresh ? fresh : stored, CacheStatus::kRevalidated);
}

bool vary_lists_accept_encoding(const http::HeaderList& fields) {
  for (const auto& f : fields)
    if (http::iequals(f.name, "vary") && http::list_contains(f.value, "accept-encoding"))
      return true;
  return false;
}

// cache.compress: whether the response is one gatehouse makes br/gzip variants of (they are
// made on the first hit that asks for one, cache_lookup.cc): a whole 200 of a compressible
// type that the backend sent uncompressed and allows transforming (RFC 9111 5.2.2.6).
bool compress_eligible(const Exchange& ex) {
  const cache::CodingSet codings = compress_codings(ex);
  if (!codings.gzip && !codings.br) return false;
  const auto& resp = ex.response;
  if (resp.status != 200) return false;
  const auto* type = resp.headers.find("content-type");
  if (!type || !cache::compressible_type(type->value)) return false;
  if (const auto* ce = resp.headers.find("content-encoding");
      ce && !http::iequals(ce->value, "identity"))
    return false;
  if (resp.headers.find("content-range")) return false;
  return !cache::parse_cache_control(resp.headers).no_transform;
}

// The stored head of a storable response: the fields kept (RFC 9111 3.1), the Vary names and
// this request's values for them, the Surrogate-Key tags, where it lives (for bans).
bool make_head(const Exchange& ex, const cache::PolicyConfig& policy,
               const cache::StoreDecision& decision, bool compress, cache::ObjectHead& head) {
  const auto& resp = ex.response;
  const auto& req = ex.request;
  if (!cache::vary_names(resp.headers, head.vary)) return false;  // Vary: * never matches
  if (compress) {
    // Kept as the identity variant, keyed as a request accepting no coding: a request that
    // accepts br or gzip misses it, and the lookup makes its compressed variant from it.
    cache::add_vary_accept_encoding(head.vary);
    cache::vary_values(head.vary, req.headers, head.variant, true);
  } else if (!head.vary.empty()) {
    cache::vary_values(head.vary, req.headers, head.variant);
  }
  head.status = resp.status;
  const auto cc = cache::parse_cache_control(resp.headers);
  const http::ConnectionOptions connection(resp.headers);
  for (const auto& f : resp.headers) {
    if (http::iequals(f.name, "surrogate-key")) {
      if (!head.tags.empty()) head.tags += ' ';
      head.tags += f.value;
      continue;
    }
    if (!cache::stored_field(f.name, cc, connection, policy.targeted_header)) continue;
    if (http::iequals(f.name, "content-length")) continue;  // the body's size is kept apart
    head.fields.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  if (compress && !vary_lists_accept_encoding(resp.headers))
    head.fields.append("Vary: Accept-Encoding\r\n");
  for (char ch : authority_host(req.authority))
    head.host.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  head.path = req.path;
  if (req.has_query) head.path.append("?").append(req.query);
  head.freshness = decision.freshness;
  if (resp.framing == http::Framing::kLength)
    head.body_size = resp.content_length;
  else if (resp.framing == http::Framing::kNone)
    head.body_size = 0;
  return true;
}

}  // namespace

namespace {

Next store_response(Exchange& ex);

}  // namespace

Next cache_store(Exchange& ex) {
  const Next next = store_response(ex);
  auto& c = ex.caching;
  // A background fetch whose response neither fills nor refreshes has nothing left to do: the
  // body is not read (a large one not storable would only be downloaded to be thrown away).
  if (c.background && !ex.local_response && !c.writer && !c.serving()) c.detach_upstream = true;
  return next;
}

namespace {

Next store_response(Exchange& ex) {
  auto& c = ex.caching;
  if (!c.cache) return Next::kContinue;
  const cache::UnixTime now = cache_now(ex);
  if (ex.local_response) {
    // The backend failed, timed out or could not be reached (RFC 5861 4, RFC 9111 4.2.4).
    const bool failed = ex.status == 502 || ex.status == 503 || ex.status == 504;
    settle(ex, failed ? Outcome::kBackendError : Outcome::kFailed);
    if (failed && c.stored &&
        cache::may_serve_stale_on_error(c.stored->head().freshness(), ex.request, now)) {
      count(c.cache->stats().stale);
      return serve_instead(ex, c.stored, CacheStatus::kStale);
    }
    return Next::kContinue;
  }
  const auto& resp = ex.response;
  const auto& req = ex.request;
  if (c.status == CacheStatus::kBypass) {
    invalidate(ex);  // invalidation_for knows which methods and statuses invalidate
    return Next::kContinue;
  }
  const cache::PolicyConfig policy = request_policy(ex);
  if (c.stored) {
    if (resp.status == 304) return refresh(ex, policy, now);
    if (resp.status >= 500) settle(ex, Outcome::kBackendError);
    if (resp.status >= 500 &&
        cache::may_serve_stale_on_error(c.stored->head().freshness(), req, now)) {
      count(c.cache->stats().stale);
      return serve_instead(ex, c.stored, CacheStatus::kStale);
    }
    if (req.method == http::Method::kHead) return update_from_head(ex, policy, now);
  }
  if (c.no_fill || req.method != http::Method::kGet) {
    settle(ex, Outcome::kUncacheable);
    return Next::kContinue;
  }
  const auto decision = cache::decide_store(req, resp, c.request_time, now, policy);
  cache::ObjectHead head;
  const bool compress = decision.store && compress_eligible(ex);
  if (!decision.store || !make_head(ex, policy, decision, compress, head)) {
    // Not storable because of this request (its no-store, its Authorization): another request
    // for the key may well fill, so the key is not remembered as uncacheable.
    const std::string_view why = decision.reason;
    const bool request_side = why == "request no-store" || why == "Authorization";
    settle(ex, request_side ? Outcome::kFailed : Outcome::kUncacheable);
    return Next::kContinue;
  }
  // The client learns that the answer depends on Accept-Encoding, as later hits will tell it.
  if (compress && !vary_lists_accept_encoding(ex.response.headers))
    ex.response.headers.push("Vary", "Accept-Encoding");
  // A stale compressed variant was revalidated and a new identity response came back: the
  // variants made from the old one are outdated, and (being stale) would send every request
  // like this one to the backend again. They go; new ones are made from the new object.
  if (compress && c.stored && !cache::compressible_object(c.stored->head())) c.cache->purge(c.key);
  const bool lead = c.lead;
  c.lead = false;  // fill() settles the pending fill, with the object or as uncacheable
  c.writer = c.cache->fill(c.key, std::move(head), lead);
  return Next::kContinue;
}

}  // namespace

}  // namespace proxy::stages
