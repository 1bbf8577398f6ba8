// SPDX-License-Identifier: MIT
#pragma once

namespace proxy {

// What fills an exchange's output (Exchange::out) with the response body. There are three kinds:
// a backend (UpstreamConnection), a stored cache object (memory or disk), and a file (offload,
// static files). The downstream, HTTP/1.1 or HTTP/2, drains Exchange::out at the client's pace
// the same way for all of them and tells the producer when it took bytes; the producer adds more
// up to Exchange::out.room() (backpressure), zero-copy where it can (references to cached
// memory, file ranges sent with sendfile). A producer marks the exchange's body done when it is
// whole (Exchange::upstream_done), or aborted when it broke (Exchange::aborted as well), and
// announces new output with Downstream::output_ready().
//
// The producer of an exchange is Exchange::producer (not owned). The backend connection sets it
// while attached. A local producer (cache, file) is set before the deliver stage and adds nothing
// until the pipeline, after deliver has queued the head, calls its output_drained() a first time:
// it then adds its first bytes and always announces output_ready() (the head waits for it). It
// clears Exchange::producer when it lets go of the exchange (end of body, abandon()).
class BodyProducer {
 public:
  // The client took bytes from Exchange::out (or, the first time, the head is queued): add more
  // if there is room now. Announce output_ready() only when something changed (bytes added, the
  // end reached): the downstream calls this after every write.
  virtual void output_drained() = 0;
  // The exchange no longer wants the body (the client went away, a local error): stop and let
  // go of the exchange; it is not touched again.
  virtual void abandon() = 0;

 protected:
  ~BodyProducer() = default;
};

}  // namespace proxy
