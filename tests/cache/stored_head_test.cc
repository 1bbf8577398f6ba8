// SPDX-License-Identifier: MIT
// StoredHead: the compact form a stored object keeps its head in.
#include "cache/stored_head.h"

#include <doctest/doctest.h>

#include <string>

#include "cache/memory_object.h"
#include "cache/object.h"

namespace {

cache::ObjectHead full_head() {
  cache::ObjectHead h;
  h.status = 203;
  h.fields = "Content-Type: text/css\r\nETag: \"x\"\r\n";
  h.vary = "accept-encoding";
  h.variant = "gzip";
  h.tags = "t1 t2";
  h.host = "example.com";
  h.path = "/a.css?v=1";
  h.freshness.response_time = 1700000000;
  h.freshness.corrected_initial_age = 7;
  h.freshness.lifetime = 600;
  h.freshness.stale_while_revalidate = 30;
  h.freshness.stale_if_error = 90;
  h.freshness.must_revalidate = true;
  h.freshness.heuristic = true;
  h.body_size = 12345;
  return h;
}

}  // namespace

TEST_CASE("a stored head gives back every field of the head it was made from") {
  const cache::ObjectHead h = full_head();
  std::string text(cache::StoredHead::text_size(h), '\0');
  const cache::StoredHead s(h, text.data());
  CHECK(s.text_bytes() == text.size());
  CHECK(s.status() == 203);
  CHECK(s.fields() == h.fields);
  CHECK(s.vary() == "accept-encoding");
  CHECK(s.variant() == "gzip");
  CHECK(s.tags() == "t1 t2");
  CHECK(s.host() == "example.com");
  CHECK(s.path() == "/a.css?v=1");
  CHECK(s.body_size() == std::optional<uint64_t>(12345));
  const cache::Freshness f = s.freshness();
  CHECK(f.response_time == 1700000000);
  CHECK(f.corrected_initial_age == 7);
  CHECK(f.lifetime == 600);
  CHECK(f.stale_while_revalidate == 30);
  CHECK(f.stale_if_error == 90);
  CHECK(f.must_revalidate);
  CHECK(f.heuristic);
  CHECK_FALSE(f.no_cache);

  const cache::ObjectHead back = s.to_owned();
  CHECK(back.fields == h.fields);
  CHECK(back.variant == h.variant);
  CHECK(back.path == h.path);
  CHECK(back.body_size == h.body_size);
  CHECK(back.freshness.lifetime == 600);

  // A copy into another text block no longer depends on the first one.
  std::string other(s.text_bytes(), '\0');
  const cache::StoredHead moved(s, other.data());
  text.assign(text.size(), 'x');
  CHECK(moved.fields() == h.fields);
  CHECK(moved.path() == "/a.css?v=1");
}

TEST_CASE("an empty head stores no text and no body size") {
  const cache::ObjectHead h;
  CHECK(cache::StoredHead::text_size(h) == 0);
  cache::StoredHead s(h, nullptr);
  CHECK(s.fields().empty());
  CHECK(s.path().empty());
  CHECK_FALSE(s.body_size());
  s.set_body_size(0);
  CHECK(s.body_size() == std::optional<uint64_t>(0));
  CHECK(cache::StoredHead().fields().empty());
}

TEST_CASE(
    "ages and lifetimes beyond 2^31 seconds are kept as the largest 32-bit value "
    "(RFC 9111 1.2.2)") {
  cache::ObjectHead h;
  h.freshness.lifetime = int64_t{1} << 40;
  h.freshness.corrected_initial_age = int64_t{1} << 33;
  cache::StoredHead s(h, nullptr);
  CHECK(s.freshness().lifetime == 2147483647);
  CHECK(s.freshness().corrected_initial_age == 2147483647);
  h.freshness.lifetime = -(int64_t{1} << 40);
  CHECK(cache::StoredHead(h, nullptr).freshness().lifetime < 0);  // still stale at once
}

TEST_CASE("a memory object keeps its head's text in its own allocation") {
  const cache::ObjectHead h = full_head();
  auto obj = cache::MemoryObject::make(cache::CacheKey{5, 6}, h, 1, 4);
  const char* begin = reinterpret_cast<const char*>(obj.get());
  const char* text = obj->head().fields().data();
  CHECK(text >= begin + sizeof(cache::MemoryObject));
  CHECK(text < begin + sizeof(cache::MemoryObject) + cache::StoredHead::text_size(h) + 4);
  CHECK(obj->head().path() == h.path);
  CHECK(obj->stored_bytes() == 4 + cache::StoredHead::text_size(h));
}
