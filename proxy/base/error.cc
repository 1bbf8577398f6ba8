// SPDX-License-Identifier: MIT
#include "proxy/base/error.h"

namespace proxy::base {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "none";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kConnectFailed:
      return "connect failed";
    case ErrorCode::kConnectionLost:
      return "connection lost";
    case ErrorCode::kNoRoute:
      return "no route";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kIo:
      return "i/o error";
  }
  return "unknown";
}

}  // namespace proxy::base
