// SPDX-License-Identifier: MIT
#include "proxy/offload/internal_locations.h"

#include <doctest/doctest.h>

using proxy::offload::canonical_client_path;
using proxy::offload::find_internal;
using proxy::offload::reaches_internal;

namespace {

conf::Config config_with(std::initializer_list<const char*> prefixes) {
  conf::Config c;
  for (const char* p : prefixes) {
    conf::InternalLocation loc;
    loc.prefix = p;
    loc.root = "/srv";
    c.internal.push_back(loc);
  }
  return c;
}

std::string canonical(std::string_view path) {
  std::string out;
  canonical_client_path(path, out);
  return out;
}

}  // namespace

TEST_CASE("a client path is compared fully decoded, with empty and dot segments gone") {
  CHECK(canonical("/tarballs/x") == "/tarballs/x");
  CHECK(canonical("//tarballs//x") == "/tarballs/x");
  CHECK(canonical("/%74arballs/x") == "/tarballs/x");
  CHECK(canonical("/tarballs%2Fx") == "/tarballs/x");
  CHECK(canonical("/tarballs%2fx") == "/tarballs/x");
  CHECK(canonical("/a/..%2F%2e%2E/tarballs/x") == "/tarballs/x");
  CHECK(canonical("/a%2F..%2Ftarballs/x") == "/tarballs/x");
  CHECK(canonical("/.%2Ftarballs\\x") == "/tarballs/x");
  CHECK(canonical("/tarballs/") == "/tarballs/");
  CHECK(canonical("/tarballs") == "/tarballs");
  CHECK(canonical("/tarballs/.") == "/tarballs/");
  CHECK(canonical("/..") == "/");
  CHECK(canonical("/") == "/");
}

TEST_CASE("a client request to an internal prefix is recognised in every spelling") {
  const conf::Config c = config_with({"/tarballs/", "/git-http/"});
  for (const char* path :
       {"/tarballs/x", "/%74arballs/x", "/t%61rballs/x", "//tarballs/x", "/%2e/tarballs/x",
        "/./tarballs/x", "/tarballs%2Fx", "/tarballs%2fx", "/x/%2E%2E/tarballs/x", "/tarballs\\x",
        "/git-http/repo.git/info/refs", "/tarballs/"}) {
    CAPTURE(std::string(path));
    CHECK(reaches_internal(c, path));
  }
  for (const char* path :
       {"/tarballsx", "/tarballs", "/TARBALLS/x", "/%2574arballs/x", "/assets/tarballs/x", "/"}) {
    CAPTURE(std::string(path));
    CHECK_FALSE(reaches_internal(c, path));
  }
  CHECK_FALSE(reaches_internal(config_with({}), "/tarballs/x"));
}

TEST_CASE("an X-Accel target finds the internal location of its prefix") {
  const conf::Config c = config_with({"/tarballs/", "/git-http/"});
  REQUIRE(find_internal(c, "/git-http/a"));
  CHECK(find_internal(c, "/git-http/a")->prefix == "/git-http/");
  CHECK(find_internal(c, "/tarballs/") == &c.internal[0]);
  CHECK(find_internal(c, "/other/x") == nullptr);
  CHECK(find_internal(c, "/tarballs") == nullptr);
}
