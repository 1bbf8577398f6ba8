// SPDX-License-Identifier: MIT
#include "proxy/admin/cache_admin.h"
#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/offload/internal_locations.h"
#include "proxy/offload/static_files.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {
namespace {

// The host part of an authority, without the port ("[::1]:80" -> "[::1]").
std::string_view host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  size_t colon = authority.rfind(':');
  return colon == std::string_view::npos ? authority : authority.substr(0, colon);
}

// An admin listener serves only the admin API, answered here as a local JSON response.
Next admin(Exchange& ex) {
  const bool include_scheme = !ex.runtime->config->cache.share_http_https;
  const admin::AdminResult r =
      admin::handle_cache_admin(ex.request, ex.loop->shared().cache, include_scheme, ex.local_text);
  ex.status = r.status;
  ex.allow = r.allow;
  ex.local_type = admin::kJson;
  if (r.status != 200) ex.error_detail = "admin request refused";
  return Next::kRespond;
}

}  // namespace

Next route(Exchange& ex) {
  if (ex.downstream->listener().admin) return admin(ex);
  const auto& listener = ex.downstream->listener();
  const auto& req = ex.request;
  if (req.asterisk) {
    ex.status = 200;  // OPTIONS * asks about the server itself: answered here
    return Next::kRespond;
  }
  // Internal locations are for X-Accel-Redirect only: a client naming one, however it spells
  // the path, gets 404 before any rule (a rule could otherwise pass it to a backend or a root).
  if (offload::reaches_internal(*ex.runtime->config, req.path)) {
    EX_LOG_WARN(ex, "request for an internal location refused: %.*s",
                static_cast<int>(req.path.size()), req.path.data());
    ex.status = 404;
    ex.error_detail = "internal location";
    return Next::kRespond;
  }
  rules::RequestView view;
  view.method = req.method_name;
  view.host = host_of(req.authority);
  view.path = req.path;
  view.headers = &req.headers;
  view.source = ex.downstream->peer();
  view.listener = listener.name;
  ex.rule = ex.runtime->rules->match(view);
  ex.pool = ex.runtime->pool_for(ex.rule);
  if (ex.rule && !ex.rule->static_root.empty()) return offload::serve_static(ex);
  if (!ex.rule || !ex.pool) {
    ex.status = 404;
    ex.error_detail = ex.rule ? "rule has no pool" : "no rule matches";
    return Next::kRespond;
  }
  if (!ex.rule->buffering) ex.streaming = true;
  return Next::kContinue;
}

}  // namespace proxy::stages
