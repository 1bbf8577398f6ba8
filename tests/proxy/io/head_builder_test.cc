// SPDX-License-Identifier: MIT
// HeadBuilder: a message head serialized into a caller-owned buffer.
#include "proxy/io/head_builder.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using proxy::io::HeadBuilder;

TEST_CASE("fields are written as name, colon, space, value, CRLF") {
  char buf[256];
  HeadBuilder h(buf, sizeof buf);
  h.add("HTTP/1.1 200 OK\r\n").field("Content-Type", "text/plain").field("X-Empty", "").add("\r\n");
  CHECK(h.ok());
  CHECK(h.view() == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty: \r\n\r\n");
  CHECK(h.size() == h.view().size());
  CHECK(h.data() == buf);
}

TEST_CASE("numbers are written in decimal without padding") {
  char buf[64];
  SUBCASE("zero") {
    HeadBuilder h(buf, sizeof buf);
    CHECK(h.add_number(0).view() == "0");
  }
  SUBCASE("small") {
    HeadBuilder h(buf, sizeof buf);
    CHECK(h.add("Content-Length: ").add_number(1234).view() == "Content-Length: 1234");
  }
  SUBCASE("the largest") {
    HeadBuilder h(buf, sizeof buf);
    CHECK(h.add_number(UINT64_MAX).view() == "18446744073709551615");
  }
}

TEST_CASE("a head that exactly fills the buffer is ok") {
  char buf[10];
  HeadBuilder h(buf, sizeof buf);
  h.add("12345").add_number(67890);
  CHECK(h.ok());
  CHECK(h.view() == "1234567890");
}

TEST_CASE("overflow is sticky: once something did not fit, ok() stays false") {
  char buf[10];
  SUBCASE("a string") {
    HeadBuilder h(buf, sizeof buf);
    h.add("12345").add("678901");
    CHECK_FALSE(h.ok());
    CHECK(h.size() <= sizeof buf);
    h.add("6");  // fits, but the head is already incomplete
    CHECK_FALSE(h.ok());
  }
  SUBCASE("a number") {
    HeadBuilder h(buf, sizeof buf);
    h.add("123456789").add_number(42);
    CHECK_FALSE(h.ok());
    CHECK(h.size() <= sizeof buf);
    h.add_number(0);
    CHECK_FALSE(h.ok());
  }
  SUBCASE("a field") {
    HeadBuilder h(buf, sizeof buf);
    h.field("Name", "value");
    CHECK_FALSE(h.ok());
    CHECK(h.size() <= sizeof buf);
  }
  SUBCASE("an empty buffer") {
    std::string storage(1, '\0');
    HeadBuilder h(storage.data(), 0);
    CHECK(h.add("").ok());
    CHECK_FALSE(h.add("x").ok());
    CHECK(h.size() == 0);
  }
}
