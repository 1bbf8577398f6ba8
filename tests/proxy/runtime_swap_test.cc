// SPDX-License-Identifier: MIT
// A worker's event loop handed a re-resolved Runtime: new requests use it, pooled connections to
// the old addresses are never reused.
#include <doctest/doctest.h>
#include <event2/event.h>

#include <memory>

#include "proxy/event_loop.h"
#include "proxy/runtime.h"
#include "proxy/server_addresses.h"
#include "proxy/upstream/upstream_connection.h"
#include "proxy/upstream/upstream_pools.h"
#include "tests/proxy/test_util.h"

using proxy::Runtime;
using proxy::UpstreamConnection;
using proxy::UpstreamPools;

namespace {

// The runtime of `rt`'s config with its one server moved to `address`.
std::shared_ptr<const Runtime> moved(const std::shared_ptr<const Runtime>& rt,
                                     const std::string& address) {
  proxy::ServerAddresses a;
  auto r = proxy::io::resolve_address(address);
  REQUIRE(r);
  a.by_pool.push_back({*r});
  auto next = Runtime::build(rt->config, rt->tls, &a);
  REQUIRE(next);
  return *next;
}

}  // namespace

TEST_CASE("an event loop offered a new runtime serves new requests with it") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  auto next = moved(rt, "127.0.0.2:9001");
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  CHECK(&loop.runtime() == rt.get());
  loop.offer_runtime(next);
  for (int i = 0; i < 10 && &loop.runtime() != next.get(); ++i)
    event_base_loop(loop.base(), EVLOOP_NONBLOCK);
  CHECK(&loop.runtime() == next.get());
  CHECK(rt.use_count() == 1);  // the loop let go of the old one; requests would keep theirs

  SUBCASE("a runtime for another config (a reload) is served too, with its own pools") {
    auto other = proxy::test::make_runtime({{"app", {{9001, 1}, {9002, 1}}}});
    const uint64_t served = loop.runtimes_served();
    loop.offer_runtime(other);
    for (int i = 0; i < 10 && loop.runtimes_served() == served; ++i)
      event_base_loop(loop.base(), EVLOOP_NONBLOCK);
    CHECK(&loop.runtime() == other.get());
    CHECK(loop.upstreams().pick(other->pools[0], nullptr) != nullptr);
  }
}

TEST_CASE("after a retarget, connections to the old addresses are neither pooled nor reused") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  auto next = moved(rt, "127.0.0.2:9001");
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  UpstreamPools pools(*rt);
  const auto& old_server = rt->pools[0].servers[0];
  const auto& new_server = next->pools[0].servers[0];

  auto* kept = new UpstreamConnection(loop, old_server);
  CHECK(pools.put_idle(kept, 4) == UpstreamPools::Kept::kWithinCap);
  pools.retarget(*next);  // closes `kept`
  CHECK(pools.take_idle(new_server) == nullptr);
  CHECK(pools.take_idle(old_server) == nullptr);  // a request begun before: a fresh connection

  auto stale = std::make_unique<UpstreamConnection>(loop, old_server);
  CHECK(pools.put_idle(stale.get(), 4) == UpstreamPools::Kept::kNo);
  auto fresh = new UpstreamConnection(loop, new_server);
  CHECK(pools.put_idle(fresh, 4) == UpstreamPools::Kept::kWithinCap);
}

TEST_CASE("after a reload, idle connections to servers still configured are kept for them") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}, {9002, 1}}}});
  auto next = proxy::test::make_runtime({{"web", {{9003, 1}}}, {"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  UpstreamPools pools(*rt);
  auto* kept = new UpstreamConnection(loop, rt->pools[0].servers[0]);
  auto* dropped = new UpstreamConnection(loop, rt->pools[0].servers[1]);
  CHECK(pools.put_idle(kept, 4) == UpstreamPools::Kept::kWithinCap);
  CHECK(pools.put_idle(dropped, 4) == UpstreamPools::Kept::kWithinCap);
  pools.reconfigure(*next);  // closes `dropped`: 9002 is gone
  const auto& same = next->pools[1].servers[0];
  CHECK(&kept->server() == &same);
  CHECK(same.index == 1);
  // Still pooled, under its new server: another connection for it goes in beside it.
  auto* another = new UpstreamConnection(loop, same);
  CHECK(pools.put_idle(another, 1) == UpstreamPools::Kept::kSurplus);
  // A pool of the old runtime (a request in flight retrying) still gets a server of its own.
  const auto* picked = pools.pick(rt->pools[0], &rt->pools[0].servers[0]);
  CHECK(picked == &rt->pools[0].servers[1]);
}
