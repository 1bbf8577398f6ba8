// SPDX-License-Identifier: MIT
#include "cache/disk_format.h"

#include <xxhash.h>

#include <cstring>

namespace cache::disk {
namespace {

void put_u16(std::string& s, uint16_t v) {
  for (int i = 0; i < 2; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_str(std::string& s, std::string_view v) {
  put_u32(s, static_cast<uint32_t>(v.size()));
  s.append(v);
}

// Reads little-endian fields from a byte range; any read past the end makes ok() false.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == b_.size(); }
  uint64_t uint(int bytes) {
    if (!ok_ || b_.size() - pos_ < static_cast<size_t>(bytes)) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += bytes;
    return v;
  }
  std::string str() {
    const uint64_t n = uint(4);
    if (!ok_ || b_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string v(b_.substr(pos_, n));
    pos_ += n;
    return v;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
  bool ok_ = true;
};

enum : uint8_t { kHasBodySize = 1, kNoCache = 2, kMustRevalidate = 4, kHeuristic = 8 };

void encode_head(std::string& s, const ObjectHead& h) {
  put_u32(s, static_cast<uint32_t>(h.status));
  const Freshness& f = h.freshness;
  put_u32(s, (h.body_size ? kHasBodySize : 0) | (f.no_cache ? kNoCache : 0) |
                 (f.must_revalidate ? kMustRevalidate : 0) | (f.heuristic ? kHeuristic : 0));
  put_u64(s, h.body_size.value_or(0));
  put_u64(s, static_cast<uint64_t>(f.response_time));
  put_u64(s, static_cast<uint64_t>(f.corrected_initial_age));
  put_u64(s, static_cast<uint64_t>(f.lifetime));
  put_u32(s, f.stale_while_revalidate);
  put_u32(s, f.stale_if_error);
  put_str(s, h.fields);
  put_str(s, h.vary);
  put_str(s, h.variant);
  put_str(s, h.tags);
  put_str(s, h.host);
  put_str(s, h.path);
}

bool decode_head(std::string_view b, ObjectHead& h) {
  Reader r(b);
  h.status = static_cast<int>(r.uint(4));
  const uint64_t flags = r.uint(4);
  const uint64_t body_size = r.uint(8);
  h.body_size.reset();
  if (flags & kHasBodySize) h.body_size = body_size;
  Freshness& f = h.freshness;
  f.response_time = static_cast<UnixTime>(r.uint(8));
  f.corrected_initial_age = static_cast<int64_t>(r.uint(8));
  f.lifetime = static_cast<int64_t>(r.uint(8));
  f.stale_while_revalidate = static_cast<uint32_t>(r.uint(4));
  f.stale_if_error = static_cast<uint32_t>(r.uint(4));
  f.no_cache = flags & kNoCache;
  f.must_revalidate = flags & kMustRevalidate;
  f.heuristic = flags & kHeuristic;
  h.fields = r.str();
  h.vary = r.str();
  h.variant = r.str();
  h.tags = r.str();
  h.host = r.str();
  h.path = r.str();
  return r.ok() && r.at_end() && h.status >= 100 && h.status <= 999;
}

constexpr size_t kHeadFixed = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4 + 6 * 4;

char hex_digit(unsigned v) {
  return "0123456789abcdef"[v & 15];
}
void put_hex(std::string& s, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) s.push_back(hex_digit(static_cast<unsigned>(v >> (4 * i))));
}
bool read_hex(std::string_view s, uint64_t& v) {
  v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return false;
    v = (v << 4) | d;
  }
  return true;
}

}  // namespace

uint32_t choose_slot_size(size_t encoded) {
  const size_t want = encoded + (encoded > 1024 ? encoded : 1024);
  return static_cast<uint32_t>((want + kSlotAlign - 1) / kSlotAlign * kSlotAlign);
}

size_t encoded_slot_size(const ObjectHead& h) {
  return kSlotPrefixSize + kHeadFixed + h.fields.size() + h.vary.size() + h.variant.size() +
         h.tags.size() + h.host.size() + h.path.size();
}

std::string encode_slot(const CacheKey& key, const ObjectHead& head, uint64_t generation,
                        uint32_t slot_size) {
  const size_t size = encoded_slot_size(head);
  if (size > slot_size || slot_size > kMaxSlotSize) return {};
  std::string s;
  s.reserve(size);
  put_u32(s, kSlotMagic);
  put_u16(s, kFormatVersion);
  put_u16(s, 0);
  put_u32(s, slot_size);
  put_u32(s, static_cast<uint32_t>(size - kSlotPrefixSize));
  put_u64(s, generation);
  put_u64(s, key.hi);
  put_u64(s, key.lo);
  put_u64(s, 0);  // the checksum, patched below
  encode_head(s, head);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, s.data(), 40);
  XXH3_64bits_update(st, s.data() + kSlotPrefixSize, s.size() - kSlotPrefixSize);
  const uint64_t sum = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  for (int i = 0; i < 8; ++i) s[40 + i] = static_cast<char>(sum >> (8 * i));
  return s;
}

bool decode_slot(std::string_view bytes, DecodedSlot& out) {
  Reader r(bytes);
  if (r.uint(4) != kSlotMagic || r.uint(2) != kFormatVersion) return false;
  r.uint(2);
  out.slot_size = static_cast<uint32_t>(r.uint(4));
  const uint64_t len = r.uint(4);
  out.generation = r.uint(8);
  out.key.hi = r.uint(8);
  out.key.lo = r.uint(8);
  const uint64_t sum = r.uint(8);
  if (!r.ok() || out.slot_size > kMaxSlotSize || kSlotPrefixSize + len > out.slot_size ||
      kSlotPrefixSize + len > bytes.size())
    return false;
  const std::string_view head = bytes.substr(kSlotPrefixSize, len);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, bytes.data(), 40);
  XXH3_64bits_update(st, head.data(), head.size());
  const bool intact = XXH3_64bits_digest(st) == sum;
  XXH3_freeState(st);
  return intact && decode_head(head, out.head);
}

std::string encode_trailer(const Trailer& t) {
  std::string s;
  s.reserve(kTrailerSize);
  put_u32(s, kTrailerMagic);
  put_u16(s, kFormatVersion);
  put_u16(s, 0);
  put_u32(s, t.slot_size);
  put_u32(s, 0);
  put_u64(s, t.body_size);
  put_u64(s, t.body_checksum);
  put_u64(s, t.key.hi);
  put_u64(s, t.key.lo);
  put_u64(s, XXH3_64bits(s.data(), s.size()));
  return s;
}

bool decode_trailer(std::string_view bytes, Trailer& out) {
  if (bytes.size() != kTrailerSize) return false;
  Reader r(bytes);
  if (r.uint(4) != kTrailerMagic || r.uint(2) != kFormatVersion) return false;
  r.uint(2);
  out.slot_size = static_cast<uint32_t>(r.uint(4));
  r.uint(4);
  out.body_size = r.uint(8);
  out.body_checksum = r.uint(8);
  out.key.hi = r.uint(8);
  out.key.lo = r.uint(8);
  const uint64_t sum = r.uint(8);
  return r.ok() && sum == XXH3_64bits(bytes.data(), kTrailerSize - 8) && out.slot_size > 0 &&
         out.slot_size <= kMaxSlotSize && out.slot_size % kSlotAlign == 0;
}

uint64_t variant_hash(std::string_view variant) {
  return XXH3_64bits(variant.data(), variant.size());
}

std::string object_path(const CacheKey& key, uint64_t vhash) {
  std::string s;
  s.reserve(6 + 32 + 1 + 16);
  put_hex(s, key.hi >> 56, 2);
  s.push_back('/');
  put_hex(s, key.hi >> 48, 2);
  s.push_back('/');
  put_hex(s, key.hi, 16);
  put_hex(s, key.lo, 16);
  s.push_back('-');
  put_hex(s, vhash, 16);
  return s;
}

bool parse_object_name(std::string_view name, CacheKey& key, uint64_t& vhash) {
  if (name.size() != 32 + 1 + 16 || name[32] != '-') return false;
  return read_hex(name.substr(0, 16), key.hi) && read_hex(name.substr(16, 16), key.lo) &&
         read_hex(name.substr(33), vhash);
}

}  // namespace cache::disk
