// SPDX-License-Identifier: MIT
#include "proxy/offload/static_files.h"

#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/offload/file_serve.h"
#include "proxy/offload/safe_path.h"

namespace proxy::offload {

Next serve_static(Exchange& ex) {
  const auto& req = ex.request;
  if (req.method != http::Method::kGet && req.method != http::Method::kHead) {
    ex.status = 405;
    ex.allow = "GET, HEAD";
    ex.error_detail = "static files answer GET and HEAD only";
    return Next::kRespond;
  }
  // The normalized path is kept in the exchange's file storage until serve_file copies what it
  // needs (serve_file resets it): a local string is enough and its allocation is short-lived.
  thread_local std::string relative;
  const char* why = "";
  if (!normalize_target(req.path, relative, why)) {
    ex.status = 404;
    ex.error_detail = why;
    EX_LOG_WARN(ex, "static path %.*s refused: %s", static_cast<int>(req.path.size()),
                req.path.data(), why);
    return Next::kRespond;
  }
  ServeFields fields;
  fields.via = false;
  return serve_file(ex, ex.runtime->file_roots.fd(ex.rule->static_root), relative, fields);
}

}  // namespace proxy::offload
