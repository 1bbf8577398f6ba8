// SPDX-License-Identifier: MIT
#include "proxy/offload/upload_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "proxy/base/log.h"
#include "proxy/offload/file_reaper.h"

namespace proxy::offload {
UploadFile::UploadFile() = default;

UploadFile::~UploadFile() {
  reset();
  EVP_MD_CTX_free(md_);
}

base::Expected<void, base::Error> UploadFile::open(std::string_view dir) {
  reset();
  if (!md_) md_ = EVP_MD_CTX_new();
  if (!md_ || EVP_DigestInit_ex(md_, EVP_sha256(), nullptr) != 1)
    return base::unexpected(base::io_error("cannot start a SHA-256 digest"));
  path_.assign(dir);
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  path_.append("/gatehouse-upload-XXXXXX");
  fd_.reset(::mkostemp(path_.data(), O_CLOEXEC));
  if (!fd_) {
    LOG_ERROR("cannot create an upload file in %.*s: %m", static_cast<int>(dir.size()), dir.data());
    path_.clear();
    return base::unexpected(base::io_error("cannot create the upload file"));
  }
  // mkostemp makes it 0600; the app that adopts the file usually runs as another user of
  // gatehouse's group.
  ::fchmod(fd_.get(), 0640);
  return {};
}

base::Expected<void, base::Error> UploadFile::write(const char* data, size_t len) {
  if (len > 0 && EVP_DigestUpdate(md_, data, len) != 1)
    return base::unexpected(base::io_error("SHA-256 digest failed"));
  while (len > 0) {
    const ssize_t n = ::write(fd_.get(), data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("cannot write the upload file %s: %m", path_.c_str());
      return base::unexpected(base::io_error("upload file write failed"));
    }
    size_ += static_cast<uint64_t>(n);
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

bool UploadFile::finish() {
  if (finished_ || !fd_) return finished_;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(md_, digest, &n) != 1 || n != 32) return false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < 32; ++i) {
    hex_[2 * i] = kHex[digest[i] >> 4];
    hex_[2 * i + 1] = kHex[digest[i] & 15];
  }
  hex_[64] = '\0';
  finished_ = true;
  return true;
}

void UploadFile::reset() {
  if (fd_) {
    fd_.reset();
    if (!kept_) remove_file(path_, size_);
  }
  path_.clear();
  size_ = 0;
  finished_ = kept_ = false;
}

}  // namespace proxy::offload
