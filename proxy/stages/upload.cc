// SPDX-License-Identifier: MIT
#include "proxy/exchange.h"
#include "proxy/exchange_log.h"
#include "proxy/stages/stages.h"

namespace proxy::stages {

Next upload(Exchange& ex) {
  // (Again after an internal redirect to a pool: that request carries no upload.)
  if (!ex.upload.active() || ex.internal_redirects > 0) return Next::kContinue;
  if (!ex.upload.finish()) {
    ex.status = 500;
    ex.error_detail = "the upload's SHA-256 could not be computed";
    return Next::kRespond;
  }
  EX_LOG_INFO(ex, "upload of %llu bytes received into %.*s",
              static_cast<unsigned long long>(ex.upload.size()),
              static_cast<int>(ex.upload.path().size()), ex.upload.path().data());
  return Next::kContinue;
}

}  // namespace proxy::stages
