// SPDX-License-Identifier: MIT
#include "proxy/pipeline.h"

#include "proxy/body_producer.h"
#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy::pipeline {
namespace {

using Stage = Next (*)(Exchange&);
constexpr Stage kStages[] = {stages::route,       stages::cache_lookup, stages::receive_body,
                             stages::upload,      stages::forward,      stages::offload,
                             stages::cache_store, stages::deliver};
constexpr uint8_t kStageCount = sizeof kStages / sizeof kStages[0];
constexpr uint8_t kDeliver = kStageCount - 1;
constexpr uint8_t kCacheStore = kStageCount - 2;
constexpr uint8_t kCacheLookup = 1;
static_assert(kStages[kCacheLookup] == stages::cache_lookup);

// Applies a stage's outcome; false when the exchange waits.
bool advance(Exchange& ex, Next next) {
  switch (next) {
    case Next::kContinue:
      ++ex.stage;
      return true;
    case Next::kRespond:
      ex.local_response = true;
      if (!ex.request_complete) ex.close_after = true;
      ex.stage = kCacheStore;
      return true;
    case Next::kServe:
      // An unread request body would be taken for the next request.
      if (!ex.request_complete) ex.close_after = true;
      ex.stage = kDeliver;
      return true;
    case Next::kRedirect:
      ex.stage = kCacheLookup;
      return true;
    case Next::kSuspend:
      return false;
  }
  return false;
}

void run(Exchange& ex) {
  while (ex.stage < kStageCount)
    if (!advance(ex, kStages[ex.stage](ex))) return;
  // Last, and nothing touches `ex` after: writing may complete the exchange and recycle it. With
  // a backend attached, it hands over the output itself once it has added the body bytes that
  // came with the head, so head and body leave in one write. A local producer (a cache object, a
  // file) is asked for its first bytes now, behind the head, and hands the output over itself.
  if (ex.upstream) return;
  if (ex.producer)
    ex.producer->output_drained();
  else
    ex.downstream->output_ready();
}

}  // namespace

void start(Exchange& ex) {
  ex.stage = 0;
  run(ex);
}

void resume(Exchange& ex) {
  ++ex.stage;
  run(ex);
}

void resume(Exchange& ex, Next outcome) {
  if (advance(ex, outcome)) run(ex);
}

void respond(Exchange& ex, int status, const char* detail) {
  ex.drop_producer();
  ex.status = status;
  ex.error_detail = detail;
  // An unread request body would be taken for the next request: this connection ends here.
  if (!ex.request_complete) ex.close_after = true;
  ex.local_response = true;
  ex.upstream_done = true;
  ex.stage = kCacheStore;  // a stale object may stand in for the error (stale-if-error)
  run(ex);
}

void fail(Exchange& ex, const base::Error& error) {
  respond(ex, error.code == base::ErrorCode::kTimeout ? 504 : 502, error.detail);
}

void finish(Exchange& ex) {
  stages::log(ex);
}

}  // namespace proxy::pipeline
