// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string_view>

namespace proxy::base {

// Which side of the proxy an error came from.
enum class Side : uint8_t { kDownstream, kUpstream, kInternal };

enum class ErrorCode : uint8_t {
  kNone,
  kMalformed,       // the peer sent bytes that break the protocol
  kTooLarge,        // a configured limit was exceeded
  kTimeout,         // a configured timeout expired
  kConnectFailed,   // upstream could not be reached
  kConnectionLost,  // the peer closed or reset the connection
  kNoRoute,         // nothing routes this request
  kUnavailable,     // no server can take the request
  kIo,              // a local system call failed (disk, socket)
};

// What failed, where, and whether the same request may safely be tried again.
struct Error {
  ErrorCode code = ErrorCode::kNone;
  Side side = Side::kInternal;
  bool retry_safe = false;
  const char* detail = "";  // static text for logs
};

std::string_view to_string(ErrorCode code);

// A local system call or allocation failed (disk, memory): not the peer's fault, not retried.
inline Error io_error(const char* detail) {
  return Error{ErrorCode::kIo, Side::kInternal, false, detail};
}

}  // namespace proxy::base
