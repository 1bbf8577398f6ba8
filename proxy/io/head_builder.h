// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace proxy::io {

// Serializes a message head into a caller-owned buffer (the loop's scratch), with no allocation.
// Overflow is sticky and reported by ok(); the caller refuses the message then.
class HeadBuilder {
 public:
  HeadBuilder(char* buf, size_t cap) : buf_(buf), cap_(cap) {}

  HeadBuilder& add(std::string_view s) {
    if (s.empty()) return *this;  // an empty view may have no data pointer at all
    if (len_ + s.size() > cap_) {
      overflow_ = true;
      return *this;
    }
    memcpy(buf_ + len_, s.data(), s.size());
    len_ += s.size();
    return *this;
  }
  HeadBuilder& add_number(uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    if (len_ + n > cap_) {
      overflow_ = true;
      return *this;
    }
    while (n) buf_[len_++] = tmp[--n];
    return *this;
  }
  HeadBuilder& field(std::string_view name, std::string_view value) {
    return add(name).add(": ").add(value).add("\r\n");
  }

  bool ok() const { return !overflow_; }
  const char* data() const { return buf_; }
  size_t size() const { return len_; }
  std::string_view view() const { return {buf_, len_}; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

}  // namespace proxy::io
