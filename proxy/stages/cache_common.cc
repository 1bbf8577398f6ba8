// SPDX-License-Identifier: MIT
#include "proxy/stages/cache_common.h"

#include "proxy/cache_settings.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/stages/offload_serve.h"

namespace proxy::stages {

std::string_view request_scheme(const Exchange& ex) {
  return ex.downstream->tls() ? "https" : "http";
}

std::string_view authority_host(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  const size_t colon = authority.rfind(':');
  return colon == std::string_view::npos ? authority : authority.substr(0, colon);
}

cache::CacheKey request_key(const Exchange& ex) {
  const auto& req = ex.request;
  return cache::make_key(request_scheme(ex), req.authority, req.path, req.query, req.has_query,
                         !ex.runtime->config->cache.share_http_https);
}

cache::PolicyConfig request_policy(const Exchange& ex) {
  return policy_config(ex.runtime->config->cache, ex.rule);
}

cache::UnixTime cache_now(const Exchange& ex) {
  return ex.loop->cached_seconds();
}

cache::CodingSet compress_codings(const Exchange& ex) {
  cache::CodingSet set;
  for (const auto& name : ex.runtime->config->cache.compress) {
    if (name == "gzip") set.gzip = true;
    if (name == "br") set.br = true;
  }
  return set;
}

Next serve_object(Exchange& ex, cache::ObjectRef object, CacheStatus status) {
  auto& c = ex.caching;
  c.fields.clear();
  cache::decode_fields(object->head().fields(), c.fields);
  const auto& head = object->head();
  const bool complete = object->complete();
  const uint64_t size = head.body_size() ? *head.body_size()
                        : complete       ? object->available()
                                         : kUnknownSize;
  object->touch();
  c.status = status;
  if (stored_decision(c.fields)) {
    // A stored X-Accel decision: the file is served again from disk, the backend not asked.
    c.served = std::move(object);
    ex.offload.read(c.fields, cache_now(ex));  // views into c.served's head
    if (c.background) {
      ex.status = 200;
      ex.local_response = true;
      return Next::kRespond;
    }
    return serve_decision(ex);
  }
  c.served = object;
  c.body.emplace(ex, std::move(object),
                 plan_reply(ex.request, head.status(), c.fields, size, complete));
  ex.producer = &*c.body;
  ex.status = c.body->reply().status;
  ex.upstream_done = false;
  return Next::kServe;
}

}  // namespace proxy::stages
