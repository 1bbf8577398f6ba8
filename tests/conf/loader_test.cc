// SPDX-License-Identifier: MIT
#include "conf/loader.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/conf/test_util.h"

using namespace conf;

namespace {

// Everything up to the rules of a minimal config.
const std::string kPrefix =
    "listeners:\n"
    "  - name: http\n"
    "    address: \"127.0.0.1:0\"\n"
    "pools:\n"
    "  app: {servers: [\"127.0.0.1:8081\"]}\n"
    "rules:\n";
const std::string kMinimal = kPrefix + "  - pool: app\n";

// A minimal config with |rules| before its default rule.
std::string with_rules(const std::string& rules) {
  return kPrefix + rules + "  - pool: app\n";
}

std::shared_ptr<const Config> load_clean(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  for (const auto& p : r.problems) FAIL_CHECK(format_problem(p));
  REQUIRE(r.config);
  return r.config;
}

}  // namespace

TEST_CASE("a minimal config gets the documented defaults") {
  auto c = load_clean(kMinimal);
  CHECK(c->workers == 0);
  CHECK(c->pid_file.empty());
  CHECK(c->user.empty());
  CHECK(c->listeners[0].line == 2);
  CHECK_FALSE(c->listeners[0].admin);
  CHECK(c->timeouts.client_header == 10s);
  CHECK(c->timeouts.client_idle == 75s);
  CHECK(c->timeouts.client_body == 60s);
  CHECK(c->timeouts.client_send == 60s);
  CHECK(c->timeouts.backend_connect == 3s);
  CHECK(c->timeouts.backend_response == 30s);
  CHECK(c->timeouts.shutdown == 30s);
  CHECK(c->buffering.response_memory == 256 * KiB);
  CHECK(c->buffering.request_memory == 1 * MiB);
  CHECK(c->buffering.max_temp_file == 1 * GiB);
  CHECK(c->buffering.temp_path == "/tmp");
  CHECK(c->limits.max_request_header == 16 * KiB);
  CHECK(c->limits.max_request_line == 8 * KiB);
  CHECK(c->limits.max_request_body == 1 * GiB);
  CHECK(c->limits.max_connections == 100000);
  CHECK(c->limits.max_connections_per_client == 0);
  CHECK(c->cache.memory == 256 * MiB);
  CHECK_FALSE(c->cache.disk);
  CHECK(c->cache.status_header.empty());
  CHECK(c->cache.compress.empty());
  CHECK(c->internal.empty());
  CHECK(c->sendfile_roots.empty());
  CHECK(c->access_log.path.empty());
  CHECK(c->access_log.format == "combined");

  const Pool* app = c->find_pool("app");
  REQUIRE(app);
  CHECK(app->line == 5);
  CHECK(app->balance == Balance::kRoundRobin);
  CHECK_FALSE(app->health_check);
  CHECK(app->max_connections == 0);
  CHECK(app->queue_size == 1024);
  CHECK(app->queue_timeout == 10s);
  CHECK(app->keepalive == 64);
  CHECK(app->retries == 1);

  REQUIRE(c->rules.size() == 1);
  CHECK(c->rules[0].name == "rule-1");
  CHECK(c->rules[0].line == 7);
  CHECK(c->rules[0].buffering);
}

TEST_CASE("workers is auto or a positive count") {
  CHECK(load_clean(kMinimal + "workers: 4\n")->workers == 4);
  CHECK(load_clean(kMinimal + "workers: auto\n")->workers == 0);
}

TEST_CASE("buffering: off parses though YAML reads it as a boolean") {
  SUBCASE("off") {
    CHECK_FALSE(load_clean(kMinimal + "    buffering: off\n")->rules[0].buffering);
  }
  SUBCASE("false") {
    CHECK_FALSE(load_clean(kMinimal + "    buffering: false\n")->rules[0].buffering);
  }
  SUBCASE("on") {
    CHECK(load_clean(kMinimal + "    buffering: on\n")->rules[0].buffering);
  }
  SUBCASE("true") {
    CHECK(load_clean(kMinimal + "    buffering: true\n")->rules[0].buffering);
  }
}

TEST_CASE("each match key takes a single value or a list") {
  auto c =
      load_clean(with_rules("  - name: m\n"
                            "    match:\n"
                            "      host: example.org\n"
                            "      path_prefix: [/a/, /b/]\n"
                            "      method: GET\n"
                            "      header: {X-Env: [prod, staging], X-One: \"^1$\"}\n"
                            "      source: 10.0.0.0/8\n"
                            "      listener: http\n"
                            "    respond: {status: 204}\n"));
  const RuleMatch& m = c->rules[0].match;
  CHECK(m.host == std::vector<std::string>{"example.org"});
  CHECK(m.path_prefix == std::vector<std::string>{"/a/", "/b/"});
  CHECK(m.method == std::vector<std::string>{"GET"});
  REQUIRE(m.header.size() == 2);
  CHECK(m.header[0].first == "X-Env");
  CHECK(m.header[0].second == "(?:prod)|(?:staging)");
  CHECK(m.header[1].second == "^1$");
  CHECK(m.source == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(m.listener == std::vector<std::string>{"http"});
}

TEST_CASE("rule actions are read into their typed forms") {
  auto c =
      load_clean(with_rules("  - name: edits\n"
                            "    match: {path_prefix: /x/}\n"
                            "    redirect: {to: \"https://example.org/\", status: 308}\n"
                            "    request_headers: {set: {X-A: \"1\", X-Empty: \"\"}, remove: X-B}\n"
                            "    response_headers: {remove: [Server, X-Powered-By]}\n"
                            "    rate_limit: {rate: 30/m}\n"
                            "    coalesce: {body_key: false}\n"
                            "  - name: teapot\n"
                            "    match: {path: ^/tea$}\n"
                            "    respond: {status: 418, body: \"short and stout\\n\"}\n"
                            "  - name: files\n"
                            "    match: {path_prefix: /static/}\n"
                            "    static: {root: /srv/static}\n"
                            "    cache: {ttl: 5m}\n"));
  const Rule& e = c->rules[0];
  REQUIRE(e.redirect);
  CHECK(e.redirect->to == "https://example.org/");
  CHECK(e.redirect->status == 308);
  REQUIRE(e.request_headers);
  CHECK(e.request_headers->set ==
        std::vector<std::pair<std::string, std::string>>{{"X-A", "1"}, {"X-Empty", ""}});
  CHECK(e.request_headers->remove == std::vector<std::string>{"X-B"});
  REQUIRE(e.response_headers);
  CHECK(e.response_headers->remove == std::vector<std::string>{"Server", "X-Powered-By"});
  REQUIRE(e.rate_limit);
  CHECK(e.rate_limit->rate == doctest::Approx(0.5));
  CHECK(e.rate_limit->burst == 1);  // no burst given: one second's worth, at least 1
  REQUIRE(e.coalesce);
  CHECK_FALSE(e.coalesce->body_key);
  CHECK_FALSE(e.coalesce->ttl);

  REQUIRE(c->rules[1].respond);
  CHECK(c->rules[1].respond->status == 418);
  CHECK(c->rules[1].respond->body == "short and stout\n");
  CHECK(c->rules[2].static_root == "/srv/static");
  REQUIRE(c->rules[2].cache);
  CHECK_FALSE(c->rules[2].cache->bypass);
  CHECK(c->rules[2].cache->ttl == 5min);
}

TEST_CASE("a pool's balance and server forms are all read") {
  auto c = load_clean(
      "listeners: [{name: admin, address: \"127.0.0.1:0\", admin: true}]\n"
      "pools:\n"
      "  a: {balance: least_conn, servers: [\"[::1]:80\"]}\n"
      "  b: {balance: random_two, servers: [\"backend.internal:80\"]}\n"
      "  c: {balance: {hash: {header: X-Tenant}}, servers: [{address: \"unix:/run/c.sock\", "
      "weight: 5}]}\n"
      "  d:\n"
      "    servers: [\"127.0.0.1:1\"]\n"
      "    health_check: {path: /health}\n"
      "    queue: {size: 0}\n"
      "    max_connections: 10\n"
      "    keepalive: 0\n"
      "    retries: 0\n");
  CHECK(c->find_pool("a")->balance == Balance::kLeastConn);
  CHECK(c->find_pool("b")->balance == Balance::kRandomTwo);
  const Pool* pc = c->find_pool("c");
  CHECK(pc->balance == Balance::kHeaderHash);
  CHECK(pc->hash_header == "X-Tenant");
  CHECK(pc->servers[0].address == "unix:/run/c.sock");
  CHECK(pc->servers[0].weight == 5);
  const Pool* pd = c->find_pool("d");
  REQUIRE(pd->health_check);
  CHECK(pd->health_check->interval == 2s);
  CHECK(pd->health_check->rise == 2);
  CHECK(pd->queue_size == 0);
  CHECK(pd->max_connections == 10);
  CHECK(pd->keepalive == 0);
  CHECK(pd->retries == 0);
}

TEST_CASE("sections left empty keep their defaults") {
  auto c = load_clean(kMinimal + "timeouts:\ncache:\nlimits: {}\ninternal:\n");
  CHECK(c->timeouts.shutdown == 30s);
  CHECK(c->cache.memory == 256 * MiB);
}

TEST_CASE("warnings are reported but do not refuse the file") {
  SUBCASE("no default rule") {
    auto r = load_string(
        "listeners: [{name: http, address: \"127.0.0.1:0\"}]\n"
        "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
        "rules:\n"
        "  - {match: {path_prefix: /app/}, pool: app}\n",
        "t.yaml");
    CHECK(r.config);
    REQUIRE(r.problems.size() == 1);
    CHECK(format_problem(r.problems[0]) ==
          "t.yaml:4:3: warning: rules: no default rule (one without match): unmatched requests "
          "get 404");
  }
  SUBCASE("no rules at all with an HTTP listener") {
    auto r = load_string("listeners: [{name: http, address: \"127.0.0.1:0\"}]\n", "t.yaml");
    CHECK(r.config);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].warning);
    CHECK(r.problems[0].line == 1);
  }
  SUBCASE("rules after a catch-all") {
    auto r = load_string(kMinimal + "  - {name: late, pool: app}\n", "t.yaml");
    CHECK(r.config);
    REQUIRE(r.problems.size() == 1);
    CHECK(format_problem(r.problems[0]) ==
          "t.yaml:8:5: warning: rules[1]: rule \"late\" is never reached: rule \"rule-1\" (line "
          "7) matches every request");
  }
  SUBCASE("a catch-all that only edits headers hides nothing") {
    auto r = load_string(
        "listeners: [{name: http, address: \"127.0.0.1:0\"}]\n"
        "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
        "rules:\n"
        "  - response_headers: {set: {X-Frame-Options: DENY}}\n"
        "  - pool: app\n",
        "t.yaml");
    CHECK(r.config);
    CHECK(r.problems.empty());
  }
  SUBCASE("admin and tcp listeners need no rules") {
    auto r = load_string("listeners: [{name: admin, address: \"127.0.0.1:0\", admin: true}]\n",
                         "t.yaml");
    CHECK(r.config);
    CHECK(r.problems.empty());
  }
}

TEST_CASE("problems are formatted as FILE:LINE:COLUMN: error|warning: MESSAGE") {
  CHECK(format_problem({"a.yaml", 3, 7, "bad thing", false}) == "a.yaml:3:7: error: bad thing");
  CHECK(format_problem({"a.yaml", 1, 1, "odd thing", true}) == "a.yaml:1:1: warning: odd thing");
}

TEST_CASE("an empty document is refused for having no listeners") {
  auto r = load_string("", "empty.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.problems.size() == 1);
  CHECK(format_problem(r.problems[0]) ==
        "empty.yaml:1:1: error: no listeners: at least one is required");
}

TEST_CASE("load_file reads the file and names it in problems") {
  TempDir dir;
  std::string path = dir.write("g.yaml", kMinimal + "bogus: 1\n");
  auto r = load_file(path);
  CHECK_FALSE(r.config);
  REQUIRE(r.problems.size() == 1);
  CHECK(format_problem(r.problems[0]) ==
        path + ":8:1: error: unknown key \"bogus\" at the top level");

  std::string good = dir.write("ok.yaml", kMinimal);
  auto ok = load_file(good);
  REQUIRE(ok.config);
  CHECK(ok.config->source == good);
}

TEST_CASE("a file that cannot be read is one error at 1:1 with the system's reason") {
  TempDir dir;
  auto missing = load_file(dir.path() + "/nope.yaml");
  CHECK_FALSE(missing.config);
  REQUIRE(missing.problems.size() == 1);
  CHECK(format_problem(missing.problems[0]) ==
        dir.path() + "/nope.yaml:1:1: error: cannot read file: No such file or directory");

  auto directory = load_file(dir.path());
  REQUIRE(directory.problems.size() == 1);
  CHECK(format_problem(directory.problems[0]) ==
        dir.path() + ":1:1: error: cannot read file: Is a directory");
}

TEST_CASE("the shipped conf/gatehouse.yaml loads without a problem") {
  // The test runs from the source root (see tests/conf/meson.build).
  auto r = load_file("conf/gatehouse.yaml");
  for (const auto& p : r.problems) FAIL_CHECK(format_problem(p));
  REQUIRE(r.config);
  REQUIRE(r.config->listeners.size() == 1);
  CHECK(r.config->listeners[0].name == "http");
  CHECK(r.config->listeners[0].address == "127.0.0.1:8080");
  REQUIRE(r.config->find_pool("app"));
  CHECK(r.config->find_pool("app")->servers[0].address == "127.0.0.1:8081");
  CHECK(r.config->buffering.temp_path == "/tmp");
  REQUIRE(r.config->rules.size() == 1);
  CHECK(r.config->rules[0].name == "default");
  CHECK(r.config->rules[0].pool == "app");
}
