// SPDX-License-Identifier: MIT
// UpstreamPools::pick: smooth weighted round-robin choice of a pool's server.
#include "proxy/upstream/upstream_pools.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/proxy/test_util.h"

using proxy::UpstreamPoolInfo;
using proxy::UpstreamPools;
using proxy::UpstreamServer;
using proxy::test::make_runtime;

namespace {

// Which server of `pool` each of `n` picks chose, by position in the pool.
std::vector<size_t> picks(UpstreamPools& pools, const UpstreamPoolInfo& pool, int n,
                          const UpstreamServer* avoid = nullptr) {
  std::vector<size_t> out;
  for (int i = 0; i < n; ++i) {
    const UpstreamServer* s = pools.pick(pool, avoid);
    REQUIRE(s);
    REQUIRE(s >= pool.servers.data());
    REQUIRE(s < pool.servers.data() + pool.servers.size());
    out.push_back(static_cast<size_t>(s - pool.servers.data()));
  }
  return out;
}

}  // namespace

TEST_CASE("weights 1 and 2 give one pick in three and two in three, evenly spread") {
  auto rt = make_runtime({{"app", {{9001, 1}, {9002, 2}}}});
  UpstreamPools pools(*rt);
  const auto& pool = rt->pools[0];
  const auto seq = picks(pools, pool, 300);
  std::map<size_t, int> count;
  for (size_t s : seq) ++count[s];
  CHECK(count[0] == 100);
  CHECK(count[1] == 200);
  // Smooth: every window of three picks holds the light server exactly once (no bursts).
  for (size_t i = 0; i + 3 <= seq.size(); ++i) {
    CAPTURE(i);
    int light = 0;
    for (size_t j = i; j < i + 3; ++j) light += seq[j] == 0;
    CHECK(light == 1);
  }
}

TEST_CASE("equal weights take turns") {
  auto rt = make_runtime({{"app", {{9001, 1}, {9002, 1}, {9003, 1}}}});
  UpstreamPools pools(*rt);
  const auto seq = picks(pools, rt->pools[0], 9);
  for (size_t i = 0; i + 3 <= seq.size(); i += 3) {
    std::vector<size_t> round(seq.begin() + static_cast<long>(i),
                              seq.begin() + static_cast<long>(i) + 3);
    std::sort(round.begin(), round.end());
    CHECK(round == std::vector<size_t>{0, 1, 2});
  }
}

TEST_CASE("weights 5, 1, 1 spread the heavy server, as nginx does") {
  auto rt = make_runtime({{"app", {{9001, 5}, {9002, 1}, {9003, 1}}}});
  UpstreamPools pools(*rt);
  CHECK(picks(pools, rt->pools[0], 7) == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("avoid skips a server when the pool has another") {
  auto rt = make_runtime({{"app", {{9001, 1}, {9002, 2}}}, {"solo", {{9003, 1}}}});
  UpstreamPools pools(*rt);
  const auto& app = rt->pools[0];
  SUBCASE("the avoided server is never chosen") {
    for (size_t avoided : {0u, 1u}) {
      for (size_t s : picks(pools, app, 20, &app.servers[avoided])) CHECK(s != avoided);
    }
  }
  SUBCASE("a pool of one server still answers with it") {
    const auto& solo = rt->pools[1];
    CHECK(pools.pick(solo, &solo.servers[0]) == &solo.servers[0]);
  }
  SUBCASE("after a retry the rotation goes on and keeps the weights") {
    (void)pools.pick(app, &app.servers[1]);
    const auto seq = picks(pools, app, 299);
    std::map<size_t, int> count;
    for (size_t s : seq) ++count[s];
    CHECK(count[0] + 1 == 100);
    CHECK(count[1] == 200);
  }
}

TEST_CASE("each pool keeps its own rotation, and an empty pool picks nothing") {
  auto rt = make_runtime({{"a", {{9001, 1}, {9002, 1}}}, {"b", {{9003, 1}, {9004, 1}}}, {"e", {}}});
  UpstreamPools pools(*rt);
  const auto& a = rt->pools[0];
  const auto& b = rt->pools[1];
  const UpstreamServer* first_a = pools.pick(a, nullptr);
  for (int i = 0; i < 3; ++i) (void)pools.pick(b, nullptr);
  const UpstreamServer* second_a = pools.pick(a, nullptr);
  CHECK(first_a != second_a);
  CHECK(pools.pick(rt->pools[2], nullptr) == nullptr);
  // Server indexes number every server of every pool once.
  CHECK(rt->server_count == 4);
  CHECK(a.servers[0].index != b.servers[0].index);
}
