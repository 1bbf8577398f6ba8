// SPDX-License-Identifier: MIT
// The disk tier's file format: head slots, trailer, names.
#include "cache/disk_format.h"

#include <doctest/doctest.h>

#include "tests/cache/disk_test_util.h"

using namespace cache::disk;

TEST_CASE("a head slot decodes to what was encoded, key and generation included") {
  const cache::ObjectHead h = disk_test::head_with("gzip");
  const uint32_t size = choose_slot_size(encoded_slot_size(h));
  CHECK(size % kSlotAlign == 0);
  CHECK(size >= 2 * encoded_slot_size(h));
  const std::string slot = encode_slot(disk_test::key_of(5), h, 7, size);
  CHECK(slot.size() == encoded_slot_size(h));
  DecodedSlot d;
  REQUIRE(decode_slot(slot, d));
  CHECK(d.key == disk_test::key_of(5));
  CHECK(d.generation == 7);
  CHECK(d.slot_size == size);
  CHECK(d.head.fields == h.fields);
  CHECK(d.head.variant == "gzip");
  CHECK_FALSE(d.head.body_size);
}

TEST_CASE("a head slot with any flipped byte, or cut short, does not decode") {
  const std::string slot = encode_slot(disk_test::key_of(5), disk_test::head_with(), 0, 4096);
  DecodedSlot d;
  for (size_t i = 0; i < slot.size(); ++i) {
    std::string bad = slot;
    bad[i] ^= 0x20;
    CHECK_FALSE(decode_slot(bad, d));
  }
  CHECK_FALSE(decode_slot(std::string_view(slot).substr(0, slot.size() - 1), d));
  CHECK_FALSE(decode_slot(std::string(4096, '\0'), d));  // a never-written slot
}

TEST_CASE("a head too large for its slot is not encoded") {
  cache::ObjectHead h = disk_test::head_with();
  h.fields.assign(5000, 'x');
  CHECK(encode_slot(disk_test::key_of(1), h, 0, 4096).empty());
}

TEST_CASE("a trailer round-trips and any flipped byte is caught") {
  Trailer t;
  t.slot_size = 8192;
  t.body_size = 1234567;
  t.body_checksum = 0xdeadbeefcafef00dull;
  t.key = disk_test::key_of(9);
  const std::string b = encode_trailer(t);
  CHECK(b.size() == kTrailerSize);
  Trailer d;
  REQUIRE(decode_trailer(b, d));
  CHECK(d.body_size == t.body_size);
  CHECK(d.body_checksum == t.body_checksum);
  CHECK(d.key == t.key);
  for (size_t i = 0; i < b.size(); ++i) {
    std::string bad = b;
    bad[i] ^= 1;
    CHECK_FALSE(decode_trailer(bad, d));
  }
}

TEST_CASE("object paths fan out by the key's top bytes and parse back") {
  const cache::CacheKey k{0xabcd000000000001ull, 2};
  const std::string p = object_path(k, 0x42);
  CHECK(p == "ab/cd/abcd0000000000010000000000000002-0000000000000042");
  cache::CacheKey back;
  uint64_t vh = 0;
  REQUIRE(parse_object_name(p.substr(6), back, vh));
  CHECK(back == k);
  CHECK(vh == 0x42);
  CHECK_FALSE(parse_object_name("abcd-12", back, vh));
  CHECK_FALSE(parse_object_name(std::string(32, 'g') + "-" + std::string(16, '0'), back, vh));
}
