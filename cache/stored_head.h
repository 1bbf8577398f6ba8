// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/freshness.h"

namespace cache {

struct ObjectHead;

// The head of a stored object in its compact form: the fixed fields, and the six strings of an
// ObjectHead laid out back to back in one text block that the owner allocates (a memory object
// in its own allocation, a disk entry in one buffer), told apart by their end offsets. Copying
// a StoredHead copies the view, not the text: a copy is valid while the text's owner lives.
class StoredHead {
 public:
  // The largest text block (offsets are 32-bit).
  static constexpr size_t kMaxText = std::numeric_limits<uint32_t>::max();

  StoredHead() = default;
  // Copies |h|'s strings into |text| (text_size(h) bytes, kept by the caller for as long as
  // this head or a copy of it is used) and takes its fixed fields.
  StoredHead(const ObjectHead& h, char* text);
  // Copies |h|'s text into |text| (h.text_bytes() bytes): the same head, owned elsewhere.
  StoredHead(const StoredHead& h, char* text);
  StoredHead(const StoredHead&) = default;
  StoredHead& operator=(const StoredHead&) = default;
  // The text block |h| needs.
  static size_t text_size(const ObjectHead& h);

  int status() const { return status_; }
  std::string_view fields() const { return part(kFields); }    // "Name: value\r\n" lines
  std::string_view vary() const { return part(kVary); }        // vary_names() of the response
  std::string_view variant() const { return part(kVariant); }  // vary_values() of its request
  std::string_view tags() const { return part(kTags); }        // Surrogate-Key, space-separated
  std::string_view host() const { return part(kHost); }        // for bans
  std::string_view path() const { return part(kPath); }
  // Ages and lifetimes are kept in 32 bits, clamped: RFC 9111 1.2.2 caps delta-seconds at
  // 2147483648 anyway.
  Freshness freshness() const {
    Freshness f;
    f.response_time = response_time_;
    f.corrected_initial_age = corrected_initial_age_;
    f.lifetime = lifetime_;
    f.stale_while_revalidate = stale_while_revalidate_;
    f.stale_if_error = stale_if_error_;
    f.no_cache = flags_ & kNoCache;
    f.must_revalidate = flags_ & kMustRevalidate;
    f.heuristic = flags_ & kHeuristic;
    return f;
  }
  std::optional<uint64_t> body_size() const {
    return (flags_ & kHasBodySize) ? std::optional<uint64_t>(body_size_) : std::nullopt;
  }
  // A fill of unknown size learns its size at its end (before readers may see complete()).
  void set_body_size(uint64_t size) {
    body_size_ = size;
    flags_ |= kHasBodySize;
  }
  // The text block's size (what the storage counts as head bytes).
  size_t text_bytes() const { return end_[kParts - 1]; }

  // An owned copy, to change and store anew (a 304 update, a compressed variant).
  ObjectHead to_owned() const;

 private:
  enum Part : uint8_t { kFields, kVary, kVariant, kTags, kHost, kPath, kParts };
  enum Flag : uint8_t { kHasBodySize = 1, kNoCache = 2, kMustRevalidate = 4, kHeuristic = 8 };
  std::string_view part(Part p) const {
    const uint32_t begin = p == 0 ? 0 : end_[p - 1];
    return {text_ + begin, end_[p] - begin};
  }

  const char* text_ = "";
  uint64_t body_size_ = 0;
  UnixTime response_time_ = 0;  // Freshness, packed
  int32_t corrected_initial_age_ = 0;
  int32_t lifetime_ = 0;
  uint32_t stale_while_revalidate_ = 0;
  uint32_t stale_if_error_ = 0;
  uint32_t end_[kParts] = {};
  uint16_t status_ = 200;
  uint8_t flags_ = 0;
};

// A StoredHead with its own copy of the text, for an object that does not lay the text out
// itself (a test's object): inherit it before Object and give Object stored().
class OwnedHead {
 public:
  explicit OwnedHead(const ObjectHead& h)
      : text_(new char[StoredHead::text_size(h)]), head_(h, text_.get()) {}
  const StoredHead& stored() const { return head_; }

 private:
  std::unique_ptr<char[]> text_;
  StoredHead head_;
};

}  // namespace cache
