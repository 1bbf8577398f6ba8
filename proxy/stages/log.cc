// SPDX-License-Identifier: MIT
#include "proxy/access_log.h"
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {

void log(Exchange& ex) {
  if (ex.aborted && ex.status == 0) ex.status = 499;  // the client left before any response
  if (ex.runtime && ex.runtime->access_log) ex.runtime->access_log->write(ex);
}

}  // namespace proxy::stages
