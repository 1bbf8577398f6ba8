// SPDX-License-Identifier: MIT
#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {

Next receive_body(Exchange& ex) {
  if (ex.request_complete) return Next::kContinue;
  // Resumed by the connection once the last body byte is in, or answered with 4xx. A streaming
  // body (buffering: off) goes on arriving while the backend request starts at once.
  ex.downstream->read_body();
  if (ex.body_streaming && ex.status == 0) return Next::kContinue;
  return Next::kSuspend;
}

}  // namespace proxy::stages
