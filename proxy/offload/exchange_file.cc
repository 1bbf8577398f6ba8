// SPDX-License-Identifier: MIT
#include "proxy/offload/exchange_file.h"

namespace proxy::offload {

void ExchangeFile::reset() {
  body.abandon();
  file = OpenedFile{};
  std::string literal = std::move(reply.literal);  // keeps its allocation
  reply = CacheReply{};
  reply.literal = std::move(literal);
  reply.literal.clear();
  fields.clear();
  storage.clear();
  limit_rate = 0;
  via = true;
  active = false;
}

}  // namespace proxy::offload
