// SPDX-License-Identifier: MIT
#pragma once

#include "proxy/pipeline.h"

namespace proxy::offload {

// The `static: {root: DIR}` action of the exchange's rule (ex.rule), as nginx's `root`: the
// whole request path, decoded and normalized (normalize_target), names a file under DIR, which
// is served with serve_file. GET and HEAD only (else 405 with Allow); a path normalize_target
// refuses gives 404 and a log line. Returns serve_file's outcome, or kRespond.
Next serve_static(Exchange& ex);

}  // namespace proxy::offload
