// SPDX-License-Identifier: MIT
#include "tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <mutex>

namespace tls {
namespace {

// The ex_data slot of SSL_CTX that points at its TicketKeys; allocated once per process.
int ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool init_mac(EVP_MAC_CTX* mac, const TicketKey& k) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
                                        const_cast<unsigned char*>(k.hmac.data()), k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

std::optional<TicketKey> TicketKey::random() {
  TicketKey k;
  if (RAND_bytes(k.name.data(), k.name.size()) != 1 ||
      RAND_bytes(k.aes.data(), k.aes.size()) != 1 || RAND_bytes(k.hmac.data(), k.hmac.size()) != 1)
    return std::nullopt;
  return k;
}

proxy::base::Expected<std::shared_ptr<TicketKeys>, std::string> TicketKeys::create() {
  auto k = TicketKey::random();
  if (!k) return proxy::base::unexpected(std::string("RAND_bytes failed for ticket keys"));
  return std::make_shared<TicketKeys>(*k, std::nullopt);
}

TicketKeys::TicketKeys(const TicketKey& current, std::optional<TicketKey> previous)
    : current_(current), previous_(previous) {}

bool TicketKeys::rotate() {
  auto k = TicketKey::random();
  if (!k) return false;
  rotate(*k);
  return true;
}

void TicketKeys::rotate(const TicketKey& next) {
  std::unique_lock lock(mu_);
  previous_ = current_;
  current_ = next;
}

void TicketKeys::set(const TicketKey& current, const TicketKey& previous) {
  std::unique_lock lock(mu_);
  current_ = current;
  previous_ = previous;
}

TicketKey TicketKeys::current() const {
  std::shared_lock lock(mu_);
  return current_;
}

bool TicketKeys::install(SSL_CTX* ctx) {
  if (ex_index() < 0 || SSL_CTX_set_ex_data(ctx, ex_index(), this) != 1) return false;
  return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeys::callback) == 1;
}

int TicketKeys::callback(SSL* ssl, unsigned char* key_name, unsigned char* iv,
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  // Every context of a listener holds the same keys, so an SNI switch does not matter here.
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  auto* self = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(ctx, ex_index()));
  if (!self) return -1;
  return enc ? self->seal(key_name, iv, cipher, mac) : self->open(key_name, iv, cipher, mac);
}

int TicketKeys::seal(unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                     EVP_MAC_CTX* mac) {
  const EVP_CIPHER* aes = EVP_aes_256_cbc();
  if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1) return -1;
  std::shared_lock lock(mu_);
  std::memcpy(key_name, current_.name.data(), current_.name.size());
  if (EVP_EncryptInit_ex(cipher, aes, nullptr, current_.aes.data(), iv) != 1) return -1;
  return init_mac(mac, current_) ? 1 : -1;
}

int TicketKeys::open(const unsigned char* key_name, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                     EVP_MAC_CTX* mac) {
  std::shared_lock lock(mu_);
  const TicketKey* k = nullptr;
  int found = 0;
  if (std::memcmp(key_name, current_.name.data(), current_.name.size()) == 0) {
    k = &current_;
    found = 1;
  } else if (previous_ &&
             std::memcmp(key_name, previous_->name.data(), previous_->name.size()) == 0) {
    k = &*previous_;
    found = 2;  // accept, and issue a new ticket under the current key
  }
  if (!k) return 0;  // unknown key: full handshake
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k->aes.data(), iv) != 1) return -1;
  return init_mac(mac, *k) ? found : -1;
}

}  // namespace tls
