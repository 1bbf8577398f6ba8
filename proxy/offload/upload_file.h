// SPDX-License-Identifier: MIT
// Upload offload (issue 11 point 7, as GitLab's Workhorse does it): a request body received into a
// named file under a rule's upload_offload.dir, hashed with SHA-256 on the way, so that the backend
// gets the file's path, size and digest instead of minutes of body bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "proxy/base/error.h"
#include "proxy/base/expected.h"
#include "proxy/base/unique_fd.h"

namespace proxy::offload {

class UploadFile {
 public:
  UploadFile();
  ~UploadFile();
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;

  // Creates a new file with a unique name in |dir| (mode 0640: the app's group may read it).
  base::Expected<void, base::Error> open(std::string_view dir);
  // Appends body bytes to the file and to the digest.
  base::Expected<void, base::Error> write(const char* data, size_t len);
  // The body is whole: the digest is final (idempotent). False if OpenSSL failed to finish it.
  bool finish();
  // The backend answered X-Upload-Keep: 1 (it moved or adopted the file): reset() leaves it.
  void keep() { kept_ = true; }
  // Closes the file and removes it, unless kept; the object is ready for the next exchange (its
  // allocations stay).
  void reset();

  bool active() const { return static_cast<bool>(fd_); }
  std::string_view path() const { return path_; }
  uint64_t size() const { return size_; }
  // Lowercase hex, once finish() has run.
  std::string_view sha256() const { return std::string_view(hex_, finished_ ? 64 : 0); }

 private:
  base::UniqueFd fd_;
  std::string path_;
  EVP_MD_CTX* md_ = nullptr;  // kept from upload to upload (EVP_DigestInit_ex resets it)
  uint64_t size_ = 0;
  bool finished_ = false;
  bool kept_ = false;
  char hex_[65] = {};
};

}  // namespace proxy::offload
