// SPDX-License-Identifier: MIT
// `resolve_interval` and where each server address is, for "host not found" messages.
#include <doctest/doctest.h>

#include <string>

#include "conf/loader.h"

using namespace conf;

namespace {

const std::string kConfig =
    "listeners:\n"
    "  - name: http\n"
    "    address: \"127.0.0.1:0\"\n"
    "pools:\n"
    "  app:\n"
    "    servers:\n"
    "      - \"127.0.0.1:8081\"\n"
    "      - {address: \"app.internal:8082\", weight: 2}\n"
    "rules:\n"
    "  - pool: app\n";

}  // namespace

TEST_CASE("resolve_interval defaults to 30s; 0s turns re-resolution off") {
  auto r = load_string(kConfig, "t.yaml");
  REQUIRE(r.config);
  CHECK(r.config->resolve_interval == 30s);
  auto off = load_string("resolve_interval: 0s\n" + kConfig, "t.yaml");
  REQUIRE(off.config);
  CHECK(off.config->resolve_interval == 0s);
  auto bad = load_string("resolve_interval: soon\n" + kConfig, "t.yaml");
  CHECK_FALSE(bad.config);
}

TEST_CASE("each server records the line and column of its address") {
  auto r = load_string(kConfig, "t.yaml");
  REQUIRE(r.config);
  const auto& servers = r.config->pools[0].servers;
  REQUIRE(servers.size() == 2);
  CHECK(servers[0].line == 7);
  CHECK(servers[0].column == 9);
  CHECK(servers[1].line == 8);
  CHECK(servers[1].column == 19);
}
