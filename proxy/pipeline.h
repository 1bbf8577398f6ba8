// SPDX-License-Identifier: MIT
#pragma once

#include "proxy/base/error.h"

namespace proxy {

struct Exchange;

// What a stage tells the pipeline.
enum class Next {
  kContinue,  // go on with the next stage
  kRespond,   // a local response was chosen (ex.status set): skip to delivery
  kSuspend,   // waiting (request body, backend, a coalesced fill): resume() is called when the
              // wait is over
  kServe,     // the response comes from the cache (ex.caching.body, ex.producer): skip to delivery
  kRedirect,  // an internal redirect to a pool (X-Accel-Redirect to an internal pool location):
              // the request was rewritten; it goes through the cache and to its pool again
};

// The request pipeline. Stages never call each other; this module alone knows their order:
//
//   route -> cache_lookup -> receive_body -> upload -> forward -> offload -> cache_store -> deliver
//                 |  hit (kServe) -------------------------------------------------------^
//                 |  coalesced miss: kSuspend until the fill is settled, then hit or on
//                 ^--- an internal redirect to a pool (kRedirect, from offload or a stored
//                      decision's hit): the rewritten request is looked up and forwarded again
//   ...body... -> log
//   a local answer (kRespond, respond(), fail()) goes to cache_store (stale-if-error, the fill's
//   settling), then deliver
//
// Each stage is a function `Next stage(Exchange&)` in proxy/stages/.
namespace pipeline {

// A request head was parsed: run the stages from the start.
void start(Exchange& ex);
// The stage that suspended is done: continue with the next one.
void resume(Exchange& ex);
// The stage that suspended is done with |outcome| (as if it had returned it).
void resume(Exchange& ex, Next outcome);
// Answer locally with `status` and a short text body, whatever stage the exchange is in. Only
// valid before any response byte was queued for the client.
void respond(Exchange& ex, int status, const char* detail);
// The backend failed before a response head arrived: 502, or 504 on a timeout.
void fail(Exchange& ex, const base::Error& error);
// Every response byte went out (or the client went away): log and release.
void finish(Exchange& ex);

}  // namespace pipeline
}  // namespace proxy
