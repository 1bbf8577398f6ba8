// SPDX-License-Identifier: MIT
#include "tls/ticket_schedule.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace tls {
namespace {

// HMAC-SHA256(secret, label || epoch as 8 big-endian bytes): one 32-byte block per use.
bool derive(const TicketSchedule::Secret& secret, char label, int64_t epoch,
            unsigned char out[32]) {
  unsigned char msg[9];
  msg[0] = static_cast<unsigned char>(label);
  auto e = static_cast<uint64_t>(epoch);
  for (int i = 0; i < 8; ++i) msg[1 + i] = static_cast<unsigned char>(e >> (56 - 8 * i));
  size_t len = 0;
  return EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(), msg,
                   sizeof msg, out, 32, &len) != nullptr &&
         len == 32;
}

}  // namespace

std::optional<TicketSchedule> TicketSchedule::random(std::time_t period_seconds) {
  Secret s;
  if (RAND_bytes(s.data(), static_cast<int>(s.size())) != 1) return std::nullopt;
  return TicketSchedule(s, period_seconds);
}

TicketSchedule::TicketSchedule(const Secret& secret, std::time_t period_seconds)
    : secret_(secret), period_(period_seconds > 0 ? period_seconds : 1) {}

std::optional<TicketKey> TicketSchedule::key(int64_t epoch) const {
  TicketKey k;
  unsigned char block[32];
  if (!derive(secret_, 'n', epoch, block)) return std::nullopt;
  std::memcpy(k.name.data(), block, k.name.size());
  if (!derive(secret_, 'a', epoch, k.aes.data()) || !derive(secret_, 'h', epoch, k.hmac.data()))
    return std::nullopt;
  return k;
}

bool TicketSchedule::apply(TicketKeys& keys, std::time_t now) {
  const int64_t e = epoch(now);
  if (e == applied_) return true;
  auto previous = key(e - 1);
  auto current = key(e);
  if (!previous || !current) return false;
  keys.set(*current, *previous);
  applied_ = e;
  return true;
}

}  // namespace tls
