// SPDX-License-Identifier: MIT
#include "proxy/downstream/downstream.h"
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {

Next receive_body(Exchange& ex) {
  if (ex.request_complete) return Next::kContinue;
  // Resumed by the connection once the last body byte is in, or answered with 4xx.
  ex.downstream->read_body();
  return Next::kSuspend;
}

}  // namespace proxy::stages
