// SPDX-License-Identifier: MIT
#include "proxy/exchange.h"
#include "proxy/stages/stages.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy::stages {

Next forward(Exchange& ex) {
  return UpstreamConnection::forward(ex);
}

}  // namespace proxy::stages
