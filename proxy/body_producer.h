// SPDX-License-Identifier: MIT
#pragma once

namespace proxy {

// What fills an exchange's output (Exchange::out) with the response body. There are three kinds:
// a backend (UpstreamConnection), a stored cache object (memory or disk), and a file (offload,
// static files). The downstream, HTTP/1.1 or HTTP/2, drains Exchange::out at the client's pace
// the same way for all of them and tells the producer when it took bytes; the producer adds more
// up to Exchange::out.room() (backpressure), zero-copy where it can (references to cached
// memory, file ranges sent with sendfile). A producer marks the exchange's body done when it is
// whole, or aborted when it broke, and announces new output with Downstream::output_ready().
class BodyProducer {
 public:
  // The client took bytes from Exchange::out: add more if there is room now.
  virtual void output_drained() = 0;
  // The exchange no longer wants the body (the client went away, a local error): stop and let
  // go of the exchange; it is not touched again.
  virtual void abandon() = 0;

 protected:
  ~BodyProducer() = default;
};

}  // namespace proxy
