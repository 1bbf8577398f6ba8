// SPDX-License-Identifier: MIT
// The offload stage (issue 11): a backend's X-Accel-Redirect or X-Sendfile answer becomes the
// file it names, served with the backend's kept fields and validators; the backend's body is
// dropped by the upstream (Exchange::discard_upstream), never sent.
#include "cache/cache.h"
#include "cache/policy.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/offload/file_serve.h"
#include "proxy/offload/internal_locations.h"
#include "proxy/offload/safe_path.h"
#include "proxy/stages/cache_common.h"
#include "proxy/stages/offload_serve.h"
#include "proxy/stages/stages.h"

#include <cctype>
#include <cstdio>

namespace proxy::stages {
namespace {

Next refuse(Exchange& ex, int status, const char* why) {
  const std::string_view t = ex.offload.target;
  EX_LOG_WARN(ex, "offload target %.*s refused: %s", static_cast<int>(t.size()), t.data(), why);
  ex.status = status;
  ex.error_detail = why;
  return Next::kRespond;
}

// The sendfile root |path| (normalized, relative to "/") lies under, with the rest of it in
// |rest|; empty when none.
std::string_view sendfile_root(const conf::Config& c, std::string_view path,
                               std::string_view& rest) {
  for (const auto& dir : c.sendfile_roots) {
    std::string_view d = dir;
    while (d.size() > 1 && d.back() == '/') d.remove_suffix(1);
    d.remove_prefix(1);  // normalize_target's output has no leading '/'
    if (d.empty()) {
      rest = path;
      return dir;
    }
    if (path.size() > d.size() && path.starts_with(d) && path[d.size()] == '/') {
      rest = path.substr(d.size() + 1);
      return dir;
    }
  }
  return {};
}

// Point 5 of issue 11: a cacheable X-Accel answer (X-Accel-Expires > 0, or explicit freshness
// such as Cache-Control: public, max-age=N) stores the decision, not a body: the target, the
// kept fields and the validators, as a bodiless object. A hit re-runs the offload from it.
bool store_decision(Exchange& ex) {
  auto& c = ex.caching;
  const auto& d = ex.offload;
  if (!c.cache || !c.keyed || c.status == CacheStatus::kBypass) return false;
  if (ex.request.method != http::Method::kGet) return false;
  const cache::UnixTime now = cache_now(ex);
  cache::StoreDecision decision;
  if (d.has_expires) {
    if (d.expires <= 0) return false;  // X-Accel-Expires: 0: not cached
    const auto& h = ex.response.headers;
    if (h.find("set-cookie") || h.find("set-cookie2")) return false;
    if (ex.request.headers.find("authorization")) return false;
    decision.store = true;
    decision.freshness.response_time = now;
    decision.freshness.lifetime = d.expires;
  } else {
    decision =
        cache::decide_store(ex.request, ex.response, c.request_time, now, request_policy(ex));
    if (!decision.store || decision.freshness.heuristic || decision.freshness.lifetime <= 0)
      return false;
  }
  cache::ObjectHead head;
  head.status = 200;
  auto field = [&head](std::string_view n, std::string_view v) {
    if (!v.empty()) head.fields.append(n).append(": ").append(v).append("\r\n");
  };
  field(d.kind == offload::OffloadDecision::Kind::kSendfile ? "X-Sendfile" : "X-Accel-Redirect",
        d.target);
  field("Content-Type", d.content_type);
  field("ETag", d.etag);
  field("Last-Modified", d.last_modified);
  field("X-Accel-Charset", d.charset);
  char rate[24];
  if (d.limit_rate > 0) {
    const int n =
        snprintf(rate, sizeof rate, "%llu", static_cast<unsigned long long>(d.limit_rate));
    field("X-Accel-Limit-Rate", std::string_view(rate, static_cast<size_t>(n)));
  }
  for (const auto& f : d.kept)
    if (!http::iequals(f.name, "set-cookie")) field(f.name, f.value);
  for (char ch : authority_host(ex.request.authority))
    head.host.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  head.path = ex.request.path;
  if (ex.request.has_query) head.path.append("?").append(ex.request.query);
  head.freshness = decision.freshness;
  head.body_size = 0;
  const bool lead = c.lead;
  c.lead = false;
  auto writer = c.cache->fill(c.key, std::move(head), lead);
  if (!writer) return false;
  writer->commit();
  return true;
}

// An internal location with a pool (object storage, say): the request becomes a GET (HEAD stays
// HEAD) of the target as the app sent it, query included, and goes through the cache to that
// pool as any proxied request; the client's other fields (Range, conditionals) go with it.
Next redirect_to_pool(Exchange& ex, const conf::InternalLocation& loc,
                      const offload::SplitTarget& split) {
  if (ex.internal_redirects >= Exchange::kMaxInternalRedirects)
    return refuse(ex, 500, "more than 10 internal redirects");
  if (!ex.request_complete) return refuse(ex, 502, "internal redirect before the request body");
  ++ex.internal_redirects;
  // The target's views (the backend's head, a stored decision) go: keep its text first.
  ex.redirect_target.assign(split.path);
  if (split.has_query) ex.redirect_target.append("?").append(split.query);
  auto& req = ex.request;
  const std::string_view t = ex.redirect_target;
  req.path = t.substr(0, split.path.size());
  req.has_query = split.has_query;
  req.query = split.has_query ? t.substr(split.path.size() + 1) : std::string_view();
  if (req.method != http::Method::kHead) req.method = http::Method::kGet;
  req.framing = http::Framing::kNone;  // the client's body went to the app, not here
  req.content_length = 0;
  req.expect_continue = false;
  ex.request_body.reset();
  ex.request_body_size = 0;
  ex.pool = ex.runtime->pool_for(loc);
  ex.attempts = 0;
  ex.server = nullptr;
  ex.status = 0;
  ex.streaming = ex.rule && !ex.rule->buffering;
  ex.offload.clear();
  ex.caching.reset();
  EX_LOG_INFO(ex, "internal redirect to pool %s: %.*s", loc.pool.c_str(),
              static_cast<int>(t.size()), t.data());
  if (ex.upstream) {
    // The answer that led here is a backend's (the app's X-Accel-Redirect, or a 304 refreshing
    // a stored decision): its connection lets go of the exchange first, dropping any body, then
    // the redirected request starts (upstream_connection.cc).
    ex.redirect_pending = ex.discard_upstream = true;
    return Next::kSuspend;
  }
  return Next::kRedirect;
}

}  // namespace

Next offload(Exchange& ex) {
  auto& d = ex.offload;
  const int status = ex.response.status;
  // X-Upload-Keep: 1: the app moved or adopted the upload file, which then outlives the exchange.
  if (ex.upload.active())
    if (const auto* keep = ex.response.headers.find("x-upload-keep"); keep && keep->value == "1")
      ex.upload.keep();
  if (status == 304 || status < 200) return Next::kContinue;
  if (!d.read(ex.response.headers, cache_now(ex))) return Next::kContinue;
  d.own();  // the backend's head goes with its connection
  ex.discard_upstream = true;
  ex.streaming = false;
  ex.caching.no_fill = true;  // the backend's own body is never stored
  store_decision(ex);
  if (ex.caching.lead && ex.caching.cache) {
    ex.caching.lead = false;
    ex.caching.cache->settle_uncacheable(ex.caching.key);
  }
  if (ex.caching.status != CacheStatus::kNone) ex.caching.status = CacheStatus::kMiss;
  if (ex.caching.background) {
    ex.status = 200;  // a background fill stored the decision (above); nobody reads a file
    return Next::kRespond;
  }
  return serve_decision(ex);
}

Next serve_decision(Exchange& ex) {
  const auto& d = ex.offload;
  // As nginx's internal redirect: any method is answered as GET (an upload's POST gets the file
  // the app names), HEAD stays HEAD; Range and conditionals apply to GET alone (RFC 9110 14.2).
  const auto split = offload::split_target(d.target);
  thread_local std::string relative;
  const char* why = "";
  if (!offload::normalize_target(split.path, relative, why)) return refuse(ex, 404, why);
  const conf::Config& config = *ex.runtime->config;
  int root_fd = -1;
  std::string_view rest;
  if (d.kind == offload::OffloadDecision::Kind::kSendfile) {
    if (split.path.empty() || split.path.front() != '/')
      return refuse(ex, 404, "X-Sendfile path is not absolute");
    const std::string_view root = sendfile_root(config, relative, rest);
    if (root.empty()) return refuse(ex, 404, "X-Sendfile path outside sendfile_roots");
    root_fd = ex.runtime->file_roots.fd(root);
  } else {
    // The prefix is matched against the normalized target ("/" + relative).
    thread_local std::string absolute;
    absolute.assign("/").append(relative);
    const conf::InternalLocation* loc = offload::find_internal(config, absolute);
    if (!loc) return refuse(ex, 404, "no internal location for the X-Accel-Redirect target");
    if (loc->root.empty()) return redirect_to_pool(ex, *loc, split);
    rest = std::string_view(relative).substr(loc->prefix.size() - 1);
    root_fd = ex.runtime->file_roots.fd(loc->root);
  }
  if (root_fd < 0) return refuse(ex, 500, "root not open");
  offload::ServeFields f;
  f.content_type = d.content_type;
  f.charset = d.charset;
  f.etag = d.etag;
  f.last_modified = d.last_modified;
  f.extra = std::span<const http::Header>(d.kept.begin(), d.kept.size());
  f.limit_rate = d.limit_rate;
  return offload::serve_file(ex, root_fd, rest, f);
}

bool stored_decision(const http::HeaderList& fields) {
  return fields.find("x-accel-redirect") || fields.find("x-sendfile");
}

}  // namespace proxy::stages
