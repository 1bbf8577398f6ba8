// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace tls {

// Empties this thread's OpenSSL error queue and returns its entries joined by "; " (oldest
// first), or "" if it was empty. Only the library's reason strings are kept, never the optional
// per-error data, so nothing read from a key file can reach a message.
std::string drain_errors();

// "|what|: <drained errors>", or just |what| when the queue was empty.
std::string error_with_queue(std::string_view what);

}  // namespace tls
