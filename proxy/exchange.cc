// SPDX-License-Identifier: MIT
#include "proxy/exchange.h"

namespace proxy {

void Exchange::reset() {
  downstream = nullptr;
  runtime.reset();
  request.clear();
  request_body.reset();
  request_body_size = 0;
  request_complete = false;
  body_streaming = false;
  rule = nullptr;
  pool = nullptr;
  upstream = nullptr;
  server = nullptr;
  attempts = 0;
  response.clear();
  streaming = false;
  upstream_done = false;
  aborted = false;
  upstream_time = base::Duration{-1};
  out.reset();
  status = 0;
  local_response = false;
  chunked_out = false;
  close_after = false;
  response_ready = false;
  bytes_out = 0;
  head_bytes = 0;
  data_bytes = 0;
  raw_request_line = {};
  error_detail = "";
  local_text.clear();
  local_type = {};
  allow = {};
  stage = 0;
}

}  // namespace proxy
