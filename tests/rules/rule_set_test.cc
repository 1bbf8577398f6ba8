// SPDX-License-Identifier: MIT
#include "rules/rule_set.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/rules/request.h"

namespace rules {
namespace {

using test::config;
using test::Request;
using test::rule;

// The name of the rule |req| is routed by, or "(none)".
std::string routed_by(const conf::Config& cfg, const Request& req) {
  auto set = RuleSet::compile(cfg);
  REQUIRE_MESSAGE(set.has_value(), (set.has_value() ? "" : set.error()));
  const conf::Rule* r = (*set)->match(req.view());
  return r ? r->name : "(none)";
}

conf::RuleMatch user_agent(std::vector<std::string> res) {
  conf::RuleMatch m;
  m.user_agent = std::move(res);
  return m;
}

TEST_CASE("a rule without match keys matches every request") {
  auto cfg = config({rule("default")});
  CHECK(routed_by(cfg, Request{}) == "default");
  Request bare;
  bare.has_source = false;
  bare.method = "PATCH";
  CHECK(routed_by(cfg, bare) == "default");
}

TEST_CASE("no rule is chosen when none matches or there are none") {
  CHECK(routed_by(config({}), Request{}) == "(none)");
  conf::RuleMatch m;
  m.method = {"POST"};
  CHECK(routed_by(config({rule("posts", m)}), Request{}) == "(none)");
}

TEST_CASE("the returned rule is the one in the config passed to compile") {
  auto cfg = config({rule("a", user_agent({"curl"})), rule("b")});
  auto set = RuleSet::compile(cfg);
  REQUIRE(set.has_value());
  CHECK((*set)->match(Request{}.view()) == &cfg.rules[1]);
}

TEST_CASE("a CI user agent is routed to the ci pool before the default") {
  auto cfg = config(
      {rule("ci-bots", user_agent({"(?i)(jenkins|gitlab-runner|buildkite)"})), rule("default")});
  CHECK(routed_by(cfg, Request{}.header("User-Agent", "GitLab-Runner 16.1")) == "ci-bots");
  CHECK(routed_by(cfg, Request{}.header("User-Agent", "Mozilla/5.0")) == "default");
}

TEST_CASE("the first matching rule wins even when a later one is more specific") {
  conf::RuleMatch pages;
  pages.path_prefix = {"/explore/"};
  conf::RuleMatch gets;
  gets.method = {"GET"};
  auto cfg = config({rule("gets", gets), rule("pages", pages), rule("default")});
  Request req;
  req.path = "/explore/projects";
  CHECK(routed_by(cfg, req) == "gets");
  req.method = "HEAD";
  CHECK(routed_by(cfg, req) == "pages");
}

TEST_CASE("every key of one rule must hold") {
  conf::RuleMatch m;
  m.method = {"POST"};
  m.path = {"/git-upload-pack$"};
  auto cfg = config({rule("clone-storms", m), rule("default")});
  Request req;
  req.method = "POST";
  req.path = "/group/repo.git/git-upload-pack";
  CHECK(routed_by(cfg, req) == "clone-storms");
  req.method = "GET";
  CHECK(routed_by(cfg, req) == "default");
  req.method = "POST";
  req.path = "/group/repo.git/info/refs";
  CHECK(routed_by(cfg, req) == "default");
}

TEST_CASE("a host key matches exactly and ignores case") {
  conf::RuleMatch m;
  m.host = {"Git.Example.org", "example.net"};
  auto cfg = config({rule("git", m)});
  Request req;
  SUBCASE("same name") {
    req.host = "git.example.org";
  }
  SUBCASE("other case") {
    req.host = "GIT.EXAMPLE.ORG";
  }
  SUBCASE("second item") {
    req.host = "example.net";
  }
  SUBCASE("trailing dot") {
    req.host = "git.example.org.";
  }
  CHECK(routed_by(cfg, req) == "git");

  for (const char* other : {"example.org", "www.git.example.org", "git.example.org.evil", ""}) {
    req.host = other;
    CHECK_MESSAGE(routed_by(cfg, req) == "(none)", other);
  }
}

TEST_CASE("a wildcard host matches any subdomain but not the domain itself") {
  conf::RuleMatch m;
  m.host = {"*.example.org"};
  auto cfg = config({rule("sub", m)});
  Request req;
  for (const char* host : {"a.example.org", "A.B.Example.ORG", "x.example.org."}) {
    req.host = host;
    CHECK_MESSAGE(routed_by(cfg, req) == "sub", host);
  }
  for (const char* host : {"example.org", ".example.org", "badexample.org", "a.example.org.uk"}) {
    req.host = host;
    CHECK_MESSAGE(routed_by(cfg, req) == "(none)", host);
  }
}

TEST_CASE("a path_prefix key is a plain, case-sensitive prefix of the path") {
  conf::RuleMatch m;
  m.path_prefix = {"/assets/", "/favicon.ico"};
  auto cfg = config({rule("assets", m)});
  Request req;
  for (const char* path : {"/assets/", "/assets/app.js", "/favicon.ico"}) {
    req.path = path;
    CHECK_MESSAGE(routed_by(cfg, req) == "assets", path);
  }
  for (const char* path : {"/assets", "/Assets/app.js", "/x/assets/app.js", "/"}) {
    req.path = path;
    CHECK_MESSAGE(routed_by(cfg, req) == "(none)", path);
  }
}

TEST_CASE("a path regex matches anywhere in the path unless anchored") {
  conf::RuleMatch m;
  m.path = {"/(info/refs|git-upload-pack|git-receive-pack)$", "^/api/v[0-9]+/"};
  auto cfg = config({rule("git", m)});
  Request req;
  for (const char* path : {"/g/r.git/info/refs", "/g/r.git/git-receive-pack", "/api/v4/projects"}) {
    req.path = path;
    CHECK_MESSAGE(routed_by(cfg, req) == "git", path);
  }
  for (const char* path : {"/g/r.git/info/refs/x", "/x/api/v4/", "/api/vX/"}) {
    req.path = path;
    CHECK_MESSAGE(routed_by(cfg, req) == "(none)", path);
  }
}

TEST_CASE("a method key matches any listed method, case-sensitively") {
  conf::RuleMatch m;
  m.method = {"POST", "PUT", "PATCH", "DELETE"};
  auto cfg = config({rule("writes", m), rule("default")});
  Request req;
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    req.method = method;
    CHECK_MESSAGE(routed_by(cfg, req) == "writes", method);
  }
  for (const char* method : {"GET", "post", "POSTX"}) {
    req.method = method;
    CHECK_MESSAGE(routed_by(cfg, req) == "default", method);
  }
}

TEST_CASE("a header key needs a field of that name whose value matches") {
  conf::RuleMatch m;
  m.header = {{"X-Gitlab-Token", "^[a-z0-9]+$"}};
  auto cfg = config({rule("token", m), rule("default")});
  CHECK(routed_by(cfg, Request{}.header("X-Gitlab-Token", "abc123")) == "token");
  CHECK(routed_by(cfg, Request{}.header("x-gitlab-token", "abc123")) == "token");
  CHECK(routed_by(cfg, Request{}.header("X-Gitlab-Token", "ABC!")) == "default");
  CHECK(routed_by(cfg, Request{}.header("X-Other", "abc123")) == "default");
}

TEST_CASE("a header key is satisfied by any one of repeated fields") {
  conf::RuleMatch m;
  m.header = {{"Accept", "json"}};
  auto cfg = config({rule("json", m), rule("default")});
  auto req = Request{}.header("Accept", "text/html").header("Accept", "application/json");
  CHECK(routed_by(cfg, req) == "json");
}

TEST_CASE("a missing header never matches, even a regex that matches the empty string") {
  conf::RuleMatch m;
  m.header = {{"X-Debug", ".*"}};
  auto cfg = config({rule("debug", m), rule("default")});
  CHECK(routed_by(cfg, Request{}) == "default");
  CHECK(routed_by(cfg, Request{}.header("X-Debug", "")) == "debug");

  auto set = RuleSet::compile(cfg);
  REQUIRE(set.has_value());
  RequestView no_headers = Request{}.view();
  no_headers.headers = nullptr;
  CHECK((*set)->match(no_headers) == &cfg.rules[1]);
}

TEST_CASE("every header entry of one rule must hold") {
  conf::RuleMatch m;
  m.header = {{"X-A", "1"}, {"X-B", "2"}};
  auto cfg = config({rule("both", m), rule("default")});
  CHECK(routed_by(cfg, Request{}.header("X-A", "1").header("X-B", "2")) == "both");
  CHECK(routed_by(cfg, Request{}.header("X-A", "1")) == "default");
  CHECK(routed_by(cfg, Request{}.header("X-B", "2")) == "default");
}

TEST_CASE("a user_agent key never matches a request without User-Agent") {
  auto cfg = config({rule("any-ua", user_agent({""})), rule("default")});
  CHECK(routed_by(cfg, Request{}) == "default");
  CHECK(routed_by(cfg, Request{}.header("user-agent", "curl/8.0")) == "any-ua");
}

TEST_CASE("a user_agent list matches if any of its regexes does") {
  auto cfg = config({rule("tools", user_agent({"^curl/", "^Wget/"})), rule("default")});
  CHECK(routed_by(cfg, Request{}.header("User-Agent", "Wget/1.21")) == "tools");
  CHECK(routed_by(cfg, Request{}.header("User-Agent", "my curl/1")) == "default");
}

TEST_CASE("a listener key matches the listener's name") {
  conf::RuleMatch m;
  m.listener = {"internal", "admin"};
  auto cfg = config({rule("inside", m), rule("default")});
  Request req;
  req.listener = "admin";
  CHECK(routed_by(cfg, req) == "inside");
  req.listener = "web";
  CHECK(routed_by(cfg, req) == "default");
}

}  // namespace
}  // namespace rules
