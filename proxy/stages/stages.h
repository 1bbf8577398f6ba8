// SPDX-License-Identifier: MIT
#pragma once

#include "proxy/pipeline.h"

namespace proxy {
struct Exchange;
}

// The pipeline's stages, in the order pipeline.cc runs them.
namespace proxy::stages {

// Picks the rule and its pool; 404 when nothing routes the request.
Next route(Exchange& ex);
// GET/HEAD through a cache-enabled config: a fresh stored object answers (kServe), a stale one
// is served while refreshed in the background or revalidated, a miss leads or joins the key's
// coalesced fill (kSuspend until it settles).
Next cache_lookup(Exchange& ex);
// Waits until the whole request body is in (memory, then a temporary file); with buffering: off
// it starts the body on its way and goes on at once.
Next receive_body(Exchange& ex);
// upload_offload: the body received into its file is whole; its SHA-256 is final, and the
// backend request names the file (X-Upload-Path, -Size, -SHA256) instead of carrying it.
Next upload(Exchange& ex);
// Sends the request to a server of the pool; suspends until the response head is in.
Next forward(Exchange& ex);
// The backend answered X-Accel-Redirect or X-Sendfile: its body is dropped, the control fields
// consumed, and the named file served in its place (an internal root, or a sendfile root);
// 404 for an unknown prefix or a path outside its roots, 500 past 10 internal redirects.
Next offload(Exchange& ex);
// The backend's head is in (or a local answer was chosen): a 304 to a revalidation refreshes and
// serves the stored object, a 5xx or failure serves a stale one where stale-if-error allows, a
// storable response starts the fill the body is teed into, unsafe methods invalidate.
Next cache_store(Exchange& ex);
// Queues the response head (and a local body) for the client; the body then flows on its own.
Next deliver(Exchange& ex);
// Writes the access log line.
void log(Exchange& ex);

}  // namespace proxy::stages
