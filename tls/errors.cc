// SPDX-License-Identifier: MIT
#include "tls/errors.h"

#include <openssl/err.h>

namespace tls {

std::string drain_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string error_with_queue(std::string_view what) {
  std::string out(what);
  std::string queue = drain_errors();
  if (!queue.empty()) {
    out += ": ";
    out += queue;
  }
  return out;
}

}  // namespace tls
