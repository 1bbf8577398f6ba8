// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_key.h"
#include "cache/object.h"

// The on-disk layout of one disk-tier object (format version 1). All integers little-endian.
//
//   [slot 0: S bytes][slot 1: S bytes][body: N bytes][trailer: kTrailerSize bytes]
//
// A slot holds one version of the head: a fixed prefix (magic "GHCO", version, S, the encoded
// head's length, a generation number, the key) and the encoded head, covered by an XXH3-64
// checksum. The file is created with slot 0 (generation 0) and slot 1 a hole (zeros: invalid).
// A 304 refresh writes generation g+1 into slot (g+1)%2, never over the slot in use, so a torn
// update leaves the previous generation valid: the reader takes the valid slot with the highest
// generation. The trailer (magic "GHTR", S, N, the body's XXH3-64, the key, its own checksum) is
// written once, at commit, before the rename that publishes the file; a file whose size is not
// 2S + N + kTrailerSize, or any checksum that fails, is not an object.
namespace cache::disk {

inline constexpr uint32_t kSlotMagic = 0x4f434847;     // "GHCO"
inline constexpr uint32_t kTrailerMagic = 0x52544847;  // "GHTR"
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kSlotPrefixSize = 48;
inline constexpr size_t kTrailerSize = 56;
inline constexpr uint32_t kSlotAlign = 4096;
inline constexpr uint32_t kMaxSlotSize = 1u << 20;

// The slot size for a head whose slot encoding is |encoded| bytes: room for it to grow (a 304
// may bring longer fields) before an update needs a new file.
uint32_t choose_slot_size(size_t encoded);

// The slot bytes (prefix + head), to be written at the slot's offset; their size is at most
// |slot_size| or the result is empty (it does not fit).
std::string encode_slot(const CacheKey& key, const ObjectHead& head, uint64_t generation,
                        uint32_t slot_size);
// The size encode_slot would produce.
size_t encoded_slot_size(const ObjectHead& head);

struct DecodedSlot {
  uint32_t slot_size = 0;
  uint64_t generation = 0;
  CacheKey key;
  ObjectHead head;
};
// False if |bytes| (a slot's region) holds no intact slot: wrong magic or version, a length
// beyond the slot, a checksum that fails, or a head that does not decode.
bool decode_slot(std::string_view bytes, DecodedSlot& out);

struct Trailer {
  uint32_t slot_size = 0;
  uint64_t body_size = 0;
  uint64_t body_checksum = 0;
  CacheKey key;
};
std::string encode_trailer(const Trailer& t);
bool decode_trailer(std::string_view bytes, Trailer& out);

// Body offset and whole file size for slot size |s| and body size |n|.
inline uint64_t body_offset(uint32_t s) {
  return 2ull * s;
}
inline uint64_t file_size(uint32_t s, uint64_t n) {
  return 2ull * s + n + kTrailerSize;
}

// XXH3-64 of the variant string: the file name tells variants of one key apart.
uint64_t variant_hash(std::string_view variant);

// "ab/cd/<32 hex key>-<16 hex variant hash>", ab and cd the key's two top bytes.
std::string object_path(const CacheKey& key, uint64_t vhash);
// Reads a file name (the last component of object_path). False if it is not one.
bool parse_object_name(std::string_view name, CacheKey& key, uint64_t& vhash);

}  // namespace cache::disk
