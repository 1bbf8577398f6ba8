// SPDX-License-Identifier: MIT
#include <algorithm>

#include "conf/address.h"
#include "conf/quote.h"
#include "conf/sections.h"

namespace conf::sections {
namespace {

void read_timeouts(Reader& r, const Value& v, Timeouts& t) {
  MapView m(r, v,
            {"client_header", "client_idle", "client_body", "client_send", "backend_connect",
             "backend_response", "shutdown"});
  store(r.duration(m.get("client_header")), t.client_header);
  store(r.duration(m.get("client_idle")), t.client_idle);
  store(r.duration(m.get("client_body")), t.client_body);
  store(r.duration(m.get("client_send")), t.client_send);
  store(r.duration(m.get("backend_connect")), t.backend_connect);
  store(r.duration(m.get("backend_response")), t.backend_response);
  store(r.duration(m.get("shutdown")), t.shutdown);
}

void read_buffering(Reader& r, const Value& v, Buffering& b) {
  MapView m(r, v, {"response_memory", "request_memory", "max_temp_file", "temp_path"});
  store(r.size(m.get("response_memory")), b.response_memory);
  store(r.size(m.get("request_memory")), b.request_memory);
  store(r.size(m.get("max_temp_file"), true), b.max_temp_file);
  if (Value tp = m.get("temp_path")) b.temp_path_at = position_of(tp);
  store(r.path(m.get("temp_path")), b.temp_path);
}

void read_limits(Reader& r, const Value& v, Limits& l) {
  MapView m(r, v,
            {"max_request_header", "max_request_line", "max_request_body", "max_connections",
             "max_connections_per_client"});
  store(r.size(m.get("max_request_header")), l.max_request_header);
  store(r.size(m.get("max_request_line")), l.max_request_line);
  store(r.size(m.get("max_request_body")), l.max_request_body);
  store(r.integer(m.get("max_connections"), 1, 100000000), l.max_connections);
  store(r.integer(m.get("max_connections_per_client"), 0, 100000000), l.max_connections_per_client);
  if (l.max_request_line > l.max_request_header && m.get("max_request_line"))
    r.warning(m.get("max_request_line"), "larger than max_request_header, which also bounds it");
}

void read_cache(Reader& r, const Value& v, CacheConfig& c) {
  MapView m(r, v,
            {"memory", "disk", "max_object_size", "share_http_https", "status_header", "compress",
             "targeted_header", "stale_while_revalidate", "stale_if_error"});
  if (v) c.enabled = true;
  store(r.size(m.get("memory")), c.memory);
  if (Value d = m.get("disk")) {
    MapView dm(r, d, {"path", "size"});
    DiskCache disk;
    store(r.path(dm.require("path")), disk.path);
    store(r.size(dm.require("size")), disk.size);
    c.disk = disk;
  }
  store(r.size(m.get("max_object_size")), c.max_object_size);
  store(r.boolean(m.get("share_http_https")), c.share_http_https);
  store(r.header_name(m.get("status_header")), c.status_header);
  for (const Value& item : r.items(m.get("compress"), true)) {
    auto enc = r.choice(item, {"gzip", "br"});
    if (!enc) continue;
    if (std::find(c.compress.begin(), c.compress.end(), *enc) != c.compress.end())
      r.error(item, quoted(*enc) + " is listed twice");
    else
      c.compress.push_back(*enc);
  }
  store(r.header_name(m.get("targeted_header")), c.targeted_header);
  store(r.duration(m.get("stale_while_revalidate"), true), c.stale_while_revalidate);
  store(r.duration(m.get("stale_if_error"), true), c.stale_if_error);
}

void read_access_log(Reader& r, const Value& v, AccessLog& log) {
  MapView m(r, v, {"path", "format"});
  Value path = m.require("path");
  if (path) log.path_at = position_of(path);
  // "-" is the standard output, not a file named "-".
  if (auto s = r.string(path)) log.path = *s == "-" ? *s : r.resolve(*s);
  store(r.choice(m.get("format"), {"combined", "json"}), log.format);
}

}  // namespace

void read_settings(Reader& r, const MapView& top, Config& config) {
  read_timeouts(r, top.get("timeouts"), config.timeouts);
  read_buffering(r, top.get("buffering"), config.buffering);
  read_limits(r, top.get("limits"), config.limits);
  read_cache(r, top.get("cache"), config.cache);
  if (Value log = top.get("access_log")) read_access_log(r, log, config.access_log);
}

}  // namespace conf::sections
