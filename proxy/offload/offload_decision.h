// SPDX-License-Identifier: MIT
// What a backend's X-Accel-Redirect or X-Sendfile answer tells gatehouse: where the body comes
// from, which of the backend's fields go with it, and the X-Accel-* controls. Pure: parsed from
// a field list, unit-tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/headers.h"

namespace proxy::offload {

// The backend's fields a redirected response keeps (as nginx does), besides ETag and
// Last-Modified, which win over the file's.
bool kept_field(std::string_view name);
// The fields gatehouse consumes and never sends: X-Accel-* and X-Sendfile.
bool control_field(std::string_view name);

// X-Accel-Expires (nginx's syntax): "SECONDS" from now, "@EPOCH" an absolute time, "0" (or a
// time already past) not cached. Returns the freshness lifetime in seconds at |now| (0: not
// cached); nullopt when the value is not one of these (the field is then ignored).
std::optional<int64_t> parse_accel_expires(std::string_view value, int64_t now);
// X-Accel-Limit-Rate: bytes per second, 0 for no limit; nullopt when not a number.
std::optional<uint64_t> parse_limit_rate(std::string_view value);

// Views into the field list it was read from (the backend's head, or a stored decision), unless
// own() copied them into |storage|.
struct OffloadDecision {
  enum class Kind : uint8_t { kNone, kAccel, kSendfile };
  Kind kind = Kind::kNone;
  std::string_view target;  // as sent: "/prefix/rest?query" or "/abs/path"
  http::HeaderList kept;    // kept_field() fields, in the backend's order
  std::string_view content_type;
  std::string_view etag;
  std::string_view last_modified;
  std::string_view charset;  // X-Accel-Charset
  uint64_t limit_rate = 0;   // X-Accel-Limit-Rate, bytes/s; 0: none
  bool has_expires = false;  // X-Accel-Expires was sent and valid
  int64_t expires = 0;       // its lifetime in seconds from the response's time (0: not cached)
  std::string storage;       // what own() copied the views into

  // Reads the controls from |fields|; false (and kind kNone) when neither X-Accel-Redirect nor
  // X-Sendfile is there (X-Accel-Redirect wins when both are). |now| is for "@EPOCH".
  bool read(const http::HeaderList& fields, int64_t now);
  // Copies every view into |storage|, so the decision outlives the fields it was read from.
  void own();
  void clear();
};

// A target split at its '?': the path as sent (normalize_target decodes it, once), and the query
// as sent (it goes to a pool unchanged).
struct SplitTarget {
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};
SplitTarget split_target(std::string_view target);

}  // namespace proxy::offload
