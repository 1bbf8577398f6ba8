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
  // The normalized path, in a per-thread buffer that keeps its allocation from request to
  // request; serve_file needs it only while it runs.
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
