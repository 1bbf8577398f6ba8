// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

#include "proxy/base/error.h"
#include "proxy/base/expected.h"
#include "proxy/body_producer.h"

namespace proxy {

struct Exchange;

// What the body producers that do not read a socket (MemoryBody, FileBody) share: the body's
// bytes [0, available) are there to take, more may come (a cache fill in progress) until the
// source says it is complete. The producer adds them to Exchange::out as the client takes them
// (the same backpressure as a backend: only up to out.room(), more on output_drained()), frames
// them when the exchange re-chunks (Exchange::chunked_out), and ends the body. It knows nothing
// of where the bytes live: its owner (a cache hit, a file offload) feeds it with progress().
//
// The output keeps its memory limit (the deliver stage's) and never spills to a temporary file.
//
// Lifetime: owned by whoever starts it (not by the exchange); it must stay alive until done() or
// until the exchange abandons it. Single-threaded: everything on the exchange's event loop.
class LocalBody : public BodyProducer {
 public:
  LocalBody(const LocalBody&) = delete;
  LocalBody& operator=(const LocalBody&) = delete;

  // The source has |available| body bytes now (never fewer than before); |complete|: there will
  // be no more. Adds what fits at once once the body has started. It may end the body and hand
  // the output to the downstream, which may finish the exchange: the caller must not touch the
  // exchange after this.
  void progress(uint64_t available, bool complete);
  // The source broke (a fill aborted): the client sees a cut, never a short body that looks
  // whole. Same caveat as progress().
  void fail(const char* detail);

  void output_drained() override;
  void abandon() override;

  // The body is over for this producer: whole, failed or abandoned. It may go.
  bool done() const { return ex_ == nullptr; }
  // Body bytes added to the output so far.
  uint64_t position() const { return pos_; }

 protected:
  LocalBody() = default;
  ~LocalBody();

  // Takes |ex|'s body: becomes ex.producer. Nothing is added before the first output_drained()
  // (the pipeline's, after the deliver stage queued the head).
  void attach(Exchange& ex, uint64_t available, bool complete);
  // Adds body bytes from |pos| on, at most |max| (> 0), to ex.out, framed by add_framed().
  // Returns the bytes added: 0 when the output has no room for them now.
  virtual base::Expected<uint64_t, base::Error> add(Exchange& ex, uint64_t pos, uint64_t max) = 0;
  // Called once when the body is over (whole, failed or abandoned): let go of the source.
  virtual void released() {}

 private:
  // Adds what the room allows; ends the body when it is whole. Announces output_ready() when
  // |announce| or something changed, as the very last thing.
  void pump(bool announce);
  void detach();

  Exchange* ex_ = nullptr;
  uint64_t pos_ = 0;
  uint64_t available_ = 0;
  bool complete_ = false;
  bool started_ = false;  // the first output_drained() came: bytes may go in
  bool pumping_ = false;  // inside pump(): a nested output_drained() only asks for another round
  bool again_ = false;
};

}  // namespace proxy
