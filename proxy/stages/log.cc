// SPDX-License-Identifier: MIT
#include "proxy/access_log.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {

void log(Exchange& ex) {
  if (ex.aborted && ex.status == 0) ex.status = 499;  // the client left before any response
  if (AccessLog* log = ex.loop->shared().access_log) log->write(ex);
}

}  // namespace proxy::stages
