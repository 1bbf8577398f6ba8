// SPDX-License-Identifier: MIT
#include "rules/rule_set.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/rules/request.h"

namespace rules {
namespace {

using test::config;
using test::rule;

// The error compile() gives for a config whose one bad rule is named "broken".
std::string compile_error(const conf::RuleMatch& bad) {
  auto cfg = config({rule("fine"), rule("broken", bad)});
  auto set = RuleSet::compile(cfg);
  REQUIRE_FALSE(set.has_value());
  return set.error();
}

TEST_CASE("a path regex that does not compile names the rule and RE2's reason") {
  conf::RuleMatch m;
  m.path = {"/ok", "/(unclosed"};
  std::string err = compile_error(m);
  CHECK(err.find("broken") != std::string::npos);
  CHECK(err.find("path") != std::string::npos);
  CHECK(err.find("/(unclosed") != std::string::npos);
  CHECK(err.find("missing )") != std::string::npos);
}

TEST_CASE("a user_agent regex that does not compile is refused") {
  conf::RuleMatch m;
  m.user_agent = {"a**"};
  std::string err = compile_error(m);
  CHECK(err.find("broken") != std::string::npos);
  CHECK(err.find("user_agent") != std::string::npos);
  CHECK(err.find("bad repetition operator") != std::string::npos);
}

TEST_CASE("a header regex that does not compile names the header") {
  conf::RuleMatch m;
  m.header = {{"X-Thing", "[z-a]"}};
  std::string err = compile_error(m);
  CHECK(err.find("broken") != std::string::npos);
  CHECK(err.find("X-Thing") != std::string::npos);
  CHECK(err.find("invalid character class range") != std::string::npos);
}

TEST_CASE("RE2 syntax that PCRE would accept but RE2 does not is refused") {
  conf::RuleMatch m;
  m.path = {"(?<=/api)/x"};
  CHECK(compile_error(m).find("broken") != std::string::npos);
}

TEST_CASE("a source that is not a CIDR is refused") {
  conf::RuleMatch m;
  m.source = {"10.0.0.0/8", "10.0.0.0/33"};
  std::string err = compile_error(m);
  CHECK(err.find("broken") != std::string::npos);
  CHECK(err.find("10.0.0.0/33") != std::string::npos);
}

TEST_CASE("one compiled set matches from several threads at once") {
  conf::RuleMatch ci;
  ci.user_agent = {"(?i)jenkins"};
  conf::RuleMatch net;
  net.source = {"10.0.0.0/8"};
  auto cfg = config({rule("ci", ci), rule("net", net), rule("default")});
  auto set = RuleSet::compile(cfg);
  REQUIRE(set.has_value());
  const RuleSet& rules = **set;

  std::atomic<int> wrong{0};
  auto worker = [&] {
    test::Request jenkins = test::Request{}.header("User-Agent", "Jenkins/2.4");
    test::Request inside = test::Request{}.from("10.1.2.3");
    test::Request other;
    for (int i = 0; i < 20000; ++i) {
      if (rules.match(jenkins.view()) != &cfg.rules[0]) ++wrong;
      if (rules.match(inside.view()) != &cfg.rules[1]) ++wrong;
      if (rules.match(other.view()) != &cfg.rules[2]) ++wrong;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
}

}  // namespace
}  // namespace rules
