// SPDX-License-Identifier: MIT
#include "proxy/exchange.h"

#include "proxy/body_producer.h"
#include "proxy/upstream/upstream_connection.h"

namespace proxy {

void Exchange::drop_producer() {
  BodyProducer* p = producer;
  UpstreamConnection* u = upstream;
  producer = nullptr;
  upstream = nullptr;
  if (p) p->abandon();
  // A backend that is not the body's producer (it feeds something else, e.g. storage) goes too.
  if (u && static_cast<BodyProducer*>(u) != p) u->abandon();
}

base::Expected<void, base::Error> Exchange::prepare_body() {
  const conf::Config& cfg = *runtime->config;
  body_limit = cfg.limits.max_request_body;
  if (!rule || !rule->upload_offload) return {};
  body_limit = rule->upload_offload->max;
  return upload.open(rule->upload_offload->dir);
}

void Exchange::reset() {
  caching.reset();  // first: its producer and waker refer to this exchange
  file.abandon();
  producer = nullptr;
  downstream = nullptr;
  runtime.reset();
  request.clear();
  request_body.reset();
  request_body_size = 0;
  body_limit = 0;
  upload.reset();
  request_complete = false;
  body_streaming = false;
  rule = nullptr;
  pool = nullptr;
  upstream = nullptr;
  producer = nullptr;
  server = nullptr;
  attempts = 0;
  response.clear();
  streaming = false;
  upstream_done = false;
  aborted = false;
  upstream_time = base::Duration{-1};
  out.reset();
  file.reset();  // after out: no range of the file is queued any more
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
  offload.clear();
  discard_upstream = false;
  internal_redirects = 0;
  redirect_pending = false;
  redirect_target.clear();
  stage = 0;
}

}  // namespace proxy
