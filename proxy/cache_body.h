// SPDX-License-Identifier: MIT
// The body of a reply served from a stored cache object (memory or disk), as a BodyProducer:
// the plan's segments (cache_reply.h) go into Exchange::out at the client's pace, following a
// fill that is still streaming in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cache/object.h"
#include "proxy/body_producer.h"
#include "proxy/cache_reply.h"
#include "proxy/loop_waker.h"

namespace proxy {

struct Exchange;

// Sends |reply|'s body from |object| into ex.out, after the head the caller has put there
// (HTTP/1.1) or handed to the stream (HTTP/2). HTTP/1.1 chunks when ex.chunked_out is set.
// Memory bodies go by reference for long runs (no copy; the object is kept alive until the
// client has the bytes), disk bodies as file ranges (sendfile on plain connections). While the
// object is still filling, it sends what is there and waits for the fill on a LoopWaker; a fill
// that aborts cuts the reply (ex.aborted). At the end it sets ex.upstream_done; it calls
// ex.downstream->output_ready() whenever it added bytes or finished.
//
// It makes itself the exchange's producer (ex.producer) and clears that when the body is over.
// Made and destroyed on the exchange's loop thread; owned by whoever made it, who keeps it until
// the exchange is done with it (after done(), or after abandon()). It may be destroyed from
// inside the output_ready() it calls.
class CacheBody final : public BodyProducer {
 public:
  CacheBody(Exchange& ex, cache::ObjectRef object, CacheReply&& reply);
  ~CacheBody();
  CacheBody(const CacheBody&) = delete;
  CacheBody& operator=(const CacheBody&) = delete;

  // Sends what it can now (all of a bodiless reply: it is done at once).
  void start() { pump(); }
  void output_drained() override { pump(); }
  void abandon() override;

  // The whole body is in ex.out, or it was cut.
  bool done() const { return done_; }
  const CacheReply& reply() const { return reply_; }

  // What it keeps in ex.out's memory at most (and never more than its memory room: cached bytes
  // never spill into the exchange's temporary file, they are in the cache already).
  static constexpr uint64_t kWindow = 256 * 1024;
  // What it keeps queued at most when the bytes go by reference (memory of the cache's own,
  // which the output does not copy): a whole 256 KiB object goes in the head's write.
  static constexpr uint64_t kReferenceWindow = 1024 * 1024;
  // Shorter memory runs are copied; longer ones go by reference.
  static constexpr size_t kMinReference = 4096;
  // The longest file range queued at once (one at a time: the next once it has left).
  static constexpr uint64_t kFileRange = 4 * 1024 * 1024;

 private:
  struct Keep;
  static void on_wake(void* arg);
  static void release_reference(const void* data, size_t len, void* arg);
  void pump();
  // Adds what it can; true if ex.out changed or the body ended.
  bool pump_once();
  bool emit(const char* data, size_t len);
  // Object body bytes [at, at + len), memory runs within |room|: returns how many went in (0:
  // failed, the body is cut); sets |wait| instead when a file range is still leaving
  // (output_drained() calls again).
  uint64_t emit_object(uint64_t at, uint64_t len, uint64_t room, uint64_t reference_room,
                       bool& wait);
  // Queues |n| bytes of the object's memory at |data| by reference (kept alive by keep_).
  bool reference(const char* data, size_t n);
  void finish(bool cut);
  void stop_following();

  Exchange* ex_;
  cache::ObjectRef object_;
  CacheReply reply_;
  LoopWaker waker_;
  Keep* keep_ = nullptr;  // the object's lifeline for bytes sent by reference
  size_t segment_ = 0;    // the segment being sent
  uint64_t pos_ = 0;      // bytes of it sent
  bool subscribed_ = false;
  bool done_ = false;
  bool busy_ = false;  // inside pump(): a nested call only asks for another round
  bool again_ = false;
  bool* alive_ = nullptr;  // pump()'s frame learns here that output_ready() destroyed us
};

}  // namespace proxy
