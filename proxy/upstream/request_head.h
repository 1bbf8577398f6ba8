// SPDX-License-Identifier: MIT
#pragma once

#include "proxy/io/head_builder.h"

namespace proxy {

struct Exchange;

// The request head sent to the backend (RFC 9110 7.6): the normalized target, the client's
// fields minus hop-by-hop ones and those named in Connection, the body's framing (see
// streams_chunked), and X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host and Via.
void build_request_head(const Exchange& ex, io::HeadBuilder& out);

// True when the body goes to the backend chunked: it is still arriving and its length is unknown.
// Otherwise the head carries Content-Length: the whole body's size, or the client's length.
bool streams_chunked(const Exchange& ex);

}  // namespace proxy
