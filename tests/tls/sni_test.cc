// SPDX-License-Identifier: MIT
#include "tls/sni.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tls {
namespace {

std::vector<LoadedCertificate> certs(std::vector<std::vector<std::string>> names) {
  std::vector<LoadedCertificate> out(names.size());
  for (size_t i = 0; i < names.size(); ++i) out[i].names = names[i];
  return out;
}

TEST_CASE("a wildcard stands for exactly one leftmost label") {
  CHECK(name_matches("*.example.org", "www.example.org"));
  CHECK(name_matches("*.example.org", "WWW.Example.ORG"));
  CHECK_FALSE(name_matches("*.example.org", "example.org"));
  CHECK_FALSE(name_matches("*.example.org", "a.b.example.org"));
  CHECK_FALSE(name_matches("*.example.org", ".example.org"));
  CHECK_FALSE(name_matches("*.org", "example.org"));
  CHECK_FALSE(name_matches("w*.example.org", "www.example.org"));
  CHECK(name_matches("example.org", "EXAMPLE.org"));
  CHECK(name_matches("example.org", "example.org."));
  CHECK_FALSE(name_matches("example.org", "example.org.evil"));
  CHECK_FALSE(name_matches("example.org", ""));
}

TEST_CASE("SNI picks an exact name before any wildcard, else the first certificate") {
  auto list =
      certs({{"default.example.net"}, {"*.example.org"}, {"www.example.org", "example.org"}});
  SUBCASE("exact beats an earlier wildcard") {
    CHECK(pick_certificate(list, "www.example.org") == &list[2]);
    CHECK(pick_certificate(list, "example.org") == &list[2]);
  }
  SUBCASE("wildcard for other one-label names") {
    CHECK(pick_certificate(list, "api.example.org") == &list[1]);
  }
  SUBCASE("case does not matter") {
    CHECK(pick_certificate(list, "WWW.EXAMPLE.ORG") == &list[2]);
    CHECK(pick_certificate(list, "Api.Example.Org") == &list[1]);
  }
  SUBCASE("no match, two labels under a wildcard, or no SNI: the default") {
    CHECK(pick_certificate(list, "other.test") == &list[0]);
    CHECK(pick_certificate(list, "a.b.example.org") == &list[0]);
    CHECK(pick_certificate(list, "") == &list[0]);
  }
  SUBCASE("among equal matches the earlier certificate wins") {
    auto dup = certs({{"x.test"}, {"a.test"}, {"a.test"}});
    CHECK(pick_certificate_index(dup, "a.test") == 1);
  }
  SUBCASE("no certificates") {
    CHECK(pick_certificate({}, "a.test") == nullptr);
  }
}

}  // namespace
}  // namespace tls
