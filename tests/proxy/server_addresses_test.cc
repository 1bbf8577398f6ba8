// SPDX-License-Identifier: MIT
// Server addresses: resolved by the main process, re-resolved by the worker keeping the last good.
#include "proxy/server_addresses.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "proxy/address_refresher.h"
#include "proxy/io/socket_address.h"
#include "proxy/runtime.h"

using proxy::AddressRefresher;
using proxy::Resolver;
using proxy::ServerAddresses;

namespace {

// A resolver from a table: name -> IP literal; a name missing from it does not resolve.
struct FakeDns {
  std::map<std::string, std::string> table;
  std::atomic<int> lookups{0};
  Resolver resolver() {
    return [this](std::string_view text)
               -> proxy::base::Expected<proxy::io::SocketAddress, std::string> {
      ++lookups;
      std::string s(text);
      auto colon = s.rfind(':');
      auto it = table.find(s.substr(0, colon));
      if (it == table.end()) {
        if (s.substr(0, colon).find_first_not_of("0123456789.") == std::string::npos)
          return proxy::io::resolve_address(s);
        return proxy::base::unexpected(std::string("cannot resolve: Name or service not known"));
      }
      return proxy::io::resolve_address(it->second + s.substr(colon));
    };
  }
};

std::shared_ptr<conf::Config> config_with(const std::vector<std::string>& servers) {
  auto config = std::make_shared<conf::Config>();
  config->source = "test.yaml";
  conf::Pool pool;
  pool.name = "app";
  pool.line = 3;
  int line = 5;
  for (const auto& s : servers) {
    conf::Server server{s, 1};
    server.line = line++;
    server.column = 9;
    pool.servers.push_back(server);
  }
  config->pools.push_back(std::move(pool));
  return config;
}

std::string text_of(const proxy::io::SocketAddress& a) {
  return proxy::io::format_address(a.get(), a.length);
}

}  // namespace

TEST_CASE("a server name that does not resolve is an error at its line, as nginx's") {
  FakeDns dns;
  dns.table["app.internal"] = "127.0.0.2";
  auto config = config_with({"app.internal:8080", "nonexistent.invalid:18081"});
  auto r = proxy::resolve_servers(*config, dns.resolver());
  CHECK_FALSE(r.addresses);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].file == "test.yaml");
  CHECK(r.problems[0].line == 6);
  CHECK(r.problems[0].column == 9);
  CHECK_FALSE(r.problems[0].warning);
  CHECK(r.problems[0].message.find("host not found in upstream \"nonexistent.invalid:18081\"") !=
        std::string::npos);
}

TEST_CASE("resolved servers are in config order, ready for the worker's runtime") {
  FakeDns dns;
  dns.table["app.internal"] = "127.0.0.2";
  auto config = config_with({"127.0.0.1:81", "app.internal:8080"});
  auto r = proxy::resolve_servers(*config, dns.resolver());
  REQUIRE(r.addresses);
  REQUIRE(r.addresses->by_pool.size() == 1);
  CHECK(text_of(r.addresses->by_pool[0][0]) == "127.0.0.1:81");
  CHECK(text_of(r.addresses->by_pool[0][1]) == "127.0.0.2:8080");
  auto rt = proxy::Runtime::build(config, nullptr, &*r.addresses);
  REQUIRE(rt);
  CHECK(text_of((*rt)->pools[0].servers[1].address) == "127.0.0.2:8080");
  CHECK(proxy::has_host_names(*config));
  CHECK_FALSE(proxy::has_host_names(*config_with({"127.0.0.1:81", "unix:/run/app.sock"})));
}

TEST_CASE("re-resolution picks up a changed address and keeps the last good on a failed lookup") {
  FakeDns dns;
  dns.table["app.internal"] = "127.0.0.2";
  auto config = config_with({"app.internal:8080", "127.0.0.1:81"});
  auto first = proxy::resolve_servers(*config, dns.resolver());
  REQUIRE(first.addresses);

  SUBCASE("unchanged") {
    auto r = proxy::refresh_servers(*config, *first.addresses, dns.resolver());
    CHECK_FALSE(r.changed);
    CHECK(r.warnings.empty());
  }
  SUBCASE("changed") {
    dns.table["app.internal"] = "127.0.0.3";
    auto r = proxy::refresh_servers(*config, *first.addresses, dns.resolver());
    CHECK(r.changed);
    CHECK(text_of(r.addresses.by_pool[0][0]) == "127.0.0.3:8080");
    CHECK(text_of(r.addresses.by_pool[0][1]) == "127.0.0.1:81");
    REQUIRE(r.changes.size() == 1);
    CHECK(r.changes[0].find("now resolves to 127.0.0.3:8080 (was 127.0.0.2:8080)") !=
          std::string::npos);
  }
  SUBCASE("the lookup fails") {
    dns.table.clear();
    auto r = proxy::refresh_servers(*config, *first.addresses, dns.resolver());
    CHECK_FALSE(r.changed);
    CHECK(text_of(r.addresses.by_pool[0][0]) == "127.0.0.2:8080");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("app.internal:8080") != std::string::npos);
    CHECK(r.warnings[0].find("keeping 127.0.0.2:8080") != std::string::npos);
  }
}

TEST_CASE("the worker's refresher hands over a new runtime only when an address changed") {
  FakeDns dns;
  dns.table["app.internal"] = "127.0.0.2";
  auto config = config_with({"app.internal:8080"});
  config->resolve_interval = std::chrono::seconds(30);
  auto first = proxy::resolve_servers(*config, dns.resolver());
  REQUIRE(first.addresses);
  auto rt = proxy::Runtime::build(config, nullptr, &*first.addresses);
  REQUIRE(rt);
  using Clock = AddressRefresher::Clock;
  const Clock::time_point t0{};
  AddressRefresher refresher(*rt, *first.addresses, dns.resolver(), t0);

  // Runs one round at `now`: starts the lookups, then waits (bounded) for their result.
  auto round = [&](Clock::time_point now) -> std::shared_ptr<const proxy::Runtime> {
    CHECK(refresher.poll(now) == nullptr);  // the lookups start, off this thread
    for (int i = 0; i < 500; ++i) {
      const int before = dns.lookups;
      if (auto next = refresher.poll(now)) return next;
      if (before == dns.lookups && i > 50) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return nullptr;
  };
  CHECK(refresher.poll(t0 + std::chrono::seconds(29)) == nullptr);
  CHECK(dns.lookups == 1);  // only resolve_servers so far: not due yet

  dns.table.clear();  // a DNS blip: the last good address stays, no new runtime
  CHECK(round(t0 + std::chrono::seconds(30)) == nullptr);
  CHECK(dns.lookups == 2);

  dns.table["app.internal"] = "127.0.0.9";
  auto next = round(t0 + std::chrono::seconds(60));
  REQUIRE(next);
  CHECK(next->config == (*rt)->config);
  CHECK(text_of(next->pools[0].servers[0].address) == "127.0.0.9:8080");
  CHECK(text_of((*rt)->pools[0].servers[0].address) == "127.0.0.2:8080");  // old one unchanged
}
