// SPDX-License-Identifier: MIT
#include "proxy/websocket.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace proxy {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

}  // namespace

bool make_websocket_key(char (&out)[kWebSocketKeyLength]) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return false;
  unsigned char text[kWebSocketKeyLength + 1];  // EVP_EncodeBlock adds a NUL
  EVP_EncodeBlock(text, raw, sizeof raw);
  memcpy(out, text, kWebSocketKeyLength);
  return true;
}

void websocket_accept(std::string_view key, char (&out)[kWebSocketAcceptLength]) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, key.data(), key.size());
  EVP_DigestUpdate(ctx, kGuid.data(), kGuid.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  unsigned char text[kWebSocketAcceptLength + 1];
  EVP_EncodeBlock(text, digest, static_cast<int>(len));
  memcpy(out, text, kWebSocketAcceptLength);
}

}  // namespace proxy
