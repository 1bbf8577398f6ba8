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

// Serves the file ex.offload names: kServe (file set up), or kRespond (404/405/500, logged).
Next serve_decision(Exchange& ex);

// Whether stored |fields| are an X-Accel decision (offload-aware caching) rather than a body.
bool stored_decision(const http::HeaderList& fields);

}  // namespace proxy::stages
