// SPDX-License-Identifier: MIT
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "proxy/base/expected.h"

namespace tls {

// One session ticket key (RFC 5077 4 layout): the name sent in the clear, then AES-256-CBC and
// HMAC-SHA256 secrets.
struct TicketKey {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 32> aes{};
  std::array<unsigned char, 32> hmac{};

  // 80 fresh bytes from RAND_bytes; nullopt if the RNG fails.
  static std::optional<TicketKey> random();
};

// The ticket keys shared by every SSL_CTX of a listener (and across reloads, and by all worker
// threads): tickets are sealed with the current key and opened with the current or the previous
// one; a ticket opened with the previous key is accepted and re-issued (renewed) under the current.
//
// rotate() does not schedule itself; the owner calls it on a timer. A ticket then stays valid for
// one to two rotation periods, so the period should be at least the session timeout.
//
// Thread safety: rotate() and the OpenSSL callback may run on any threads at once; the keys are
// read under a shared lock and replaced under an exclusive one. Must outlive every SSL_CTX it is
// installed in.
class TicketKeys {
 public:
  static proxy::base::Expected<std::shared_ptr<TicketKeys>, std::string> create();
  // Fixed keys, for tests and for keys distributed from elsewhere.
  TicketKeys(const TicketKey& current, std::optional<TicketKey> previous);

  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // Current becomes previous, a fresh random key becomes current. False (keys unchanged) if the
  // RNG fails.
  bool rotate();
  // Same with a given key.
  void rotate(const TicketKey& next);
  // Replaces both keys at once (TicketSchedule).
  void set(const TicketKey& current, const TicketKey& previous);

  // Makes |ctx| seal and open its tickets with these keys
  // (SSL_CTX_set_tlsext_ticket_key_evp_cb: AES-256-CBC, EVP_MAC HMAC-SHA256).
  bool install(SSL_CTX* ctx);

  TicketKey current() const;

 private:
  static int callback(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int enc);
  int seal(unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
  int open(const unsigned char* key_name, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
           EVP_MAC_CTX* mac);

  mutable std::shared_mutex mu_;
  TicketKey current_;
  std::optional<TicketKey> previous_;
};

}  // namespace tls
