// SPDX-License-Identifier: MIT
// What one exchange knows about the file it is served from (file_serve.h): kept inside the
// Exchange and recycled with it, so serving a file allocates nothing for it once warm.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/cache_reply.h"
#include "proxy/file_body.h"
#include "proxy/http/headers.h"
#include "proxy/offload/safe_path.h"

namespace proxy::offload {

struct ExchangeFile {
  OpenedFile file;          // the open file: outlives every range of it queued in Exchange::out
  CacheReply reply;         // the plan (cache_reply.h), as a cache hit has
  http::HeaderList fields;  // the representation's fields the plan and heads use (views into
  std::string storage;      // |storage|)
  FileBody body;            // the producer (Exchange::producer while it sends)
  uint64_t limit_rate = 0;  // bytes/s, 0: none (X-Accel-Limit-Rate; applied by the sender)
  bool via = true;          // the head carries Via
  bool active = false;

  // The response is this file's.
  bool serving() const { return active; }
  // Stops the body (it lets go of the exchange); call before the exchange's output is reset.
  void abandon() { body.abandon(); }
  // Forgets it all and closes the file; after Exchange::out was reset (no range of it queued).
  void reset();
};

}  // namespace proxy::offload
