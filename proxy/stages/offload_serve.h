// SPDX-License-Identifier: MIT
// Serving an X-Accel decision (Exchange::offload), shared by the offload stage (a backend's
// answer) and the cache hit path (a stored decision, cache_common.cc). Not a stage.
#pragma once

#include "proxy/http/headers.h"
#include "proxy/pipeline.h"

namespace proxy {
struct Exchange;
}

namespace proxy::stages {

// Serves the file ex.offload names: kServe (file set up), or kRespond (404/500, logged). A
// target in an internal location with a pool rewrites the request for that pool instead:
// kRedirect, or kSuspend with ex.redirect_pending while a backend connection is still attached
// (it resumes the pipeline with kRedirect once it has let go).
Next serve_decision(Exchange& ex);

// Whether stored |fields| are an X-Accel decision (offload-aware caching) rather than a body.
bool stored_decision(const http::HeaderList& fields);

}  // namespace proxy::stages
