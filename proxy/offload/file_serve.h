// SPDX-License-Identifier: MIT
// Serving one file as the exchange's response (issue 11: static locations, X-Accel-Redirect,
// X-Sendfile). The reply is planned by the same code as a cache hit (cache_reply.h plan_reply:
// preconditions, Range, If-Range, multipart/byteranges, HEAD) from the file's representation
// fields, and its head is written by the same write_http1_head / http2_fields; the body is a
// FileBody over the open file (sendfile on plain and kernel-TLS connections, a small reused
// buffer on other TLS, no-copy DATA frames on HTTP/2).
//
// API as the X-Accel and upload work use it (names as in the plan, kept):
//   FileRoots::fd(dir)              file_roots.h, on proxy::Runtime::file_roots
//   normalize_target, open_beneath  safe_path.h (open_beneath returns OpenResult{status, why}
//                                   rather than a bare kind, so callers can log the reason)
//   mime_type                       mime.h
//   ServeFields, serve_file         here; the exchange's state is Exchange::file (exchange_file.h:
//                                   the open file, the plan, the FileBody, limit_rate)
//   serve_static                    static_files.h: the `static:` action, called by route
// The deliver stage and the HTTP/2 stream write the head of any planned reply, a stored object's
// or a file's, through stages::planned_reply (stages/response_fields.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/http/headers.h"
#include "proxy/pipeline.h"

namespace proxy::offload {

// What an X-Accel answer adds to the file's own fields (all empty for a static file). The views
// are copied by serve_file: they may point into the backend's head, which goes away.
struct ServeFields {
  std::string_view content_type;   // the backend's Content-Type; empty: mime_type(file name)
  std::string_view charset;        // X-Accel-Charset: added to a Content-Type without a charset
  std::string_view etag;           // the backend's validators win over the file's (so If-Range
  std::string_view last_modified;  // and If-None-Match match the app's); empty: the file's
  // Fields copied as they are: Content-Disposition, Cache-Control, Expires, Set-Cookie,
  // Accept-Ranges (the caller picks them; an Accept-Ranges here replaces gatehouse's "bytes").
  std::span<const http::Header> extra;
  uint64_t limit_rate = 0;  // X-Accel-Limit-Rate, bytes/s (0: none): carried in Exchange::file
  bool via = true;          // send "Via: 1.1 gatehouse" (a proxied answer); false for static
};

// Opens |relative| (normalize_target's output) beneath |root_fd| (open_beneath) and makes the
// exchange's response from it: the reply is planned against the request (ex.request: GET or
// HEAD; the caller has refused other methods), Exchange::file holds the file, the plan and the
// body producer (ex.producer), and kServe is returned: the pipeline goes to the deliver stage.
// A file that cannot be served sets ex.status (404 missing, 403 unreadable, 404 refused: logged
// with the reason) and returns kRespond. Before the body's last byte of a large file leaves, the
// file must still have the size announced, else the response is cut and logged (a file that
// shrinks under sendfile fails the write: cut as well).
Next serve_file(Exchange& ex, int root_fd, std::string_view relative, const ServeFields& f);

}  // namespace proxy::offload
