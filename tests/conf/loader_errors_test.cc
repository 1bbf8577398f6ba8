// SPDX-License-Identifier: MIT
// Every kind of problem the loader reports, with its exact position.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "conf/loader.h"
#include "tests/conf/test_util.h"

using namespace conf;

namespace {

// Line 1 of every document below: one admin listener, so nothing else is required and no rule
// is expected. What each test adds starts on line 2.
const std::string kHead = "listeners: [{name: admin, address: \"127.0.0.1:0\", admin: true}]\n";

std::vector<std::string> problems(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  std::vector<std::string> out;
  bool errors = false;
  for (const auto& p : r.problems) {
    out.push_back(format_problem(p));
    errors |= !p.warning;
  }
  CHECK(bool(r.config) == !errors);
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("YAML syntax errors are reported at the parser's position") {
  CHECK(problems("a: [1,\nb: 2\n") ==
        Lines{"t.yaml:3:1: error: invalid YAML: end of sequence flow not found"});
  CHECK(problems("a: 1\n  b: 2\n") == Lines{"t.yaml:2:4: error: invalid YAML: illegal map value"});
  CHECK(problems(kHead + "pools: *nope\n") ==
        Lines{"t.yaml:2:8: error: invalid YAML: the referenced anchor is not defined"});
}

TEST_CASE("an unknown key is an error at its line and column, with a near miss suggested") {
  CHECK(problems(kHead + "timout: 1s\n") ==
        Lines{"t.yaml:2:1: error: unknown key \"timout\" at the top level (did you mean "
              "\"timeouts\"?)"});
  CHECK(problems(kHead + "timeouts:\n  client_hedaer: 1s\n  frobnicate: 2s\n") ==
        Lines{"t.yaml:3:3: error: unknown key \"client_hedaer\" in timeouts (did you mean "
              "\"client_header\"?)",
              "t.yaml:4:3: error: unknown key \"frobnicate\" in timeouts"});
}

TEST_CASE("unknown keys are found at every level") {
  auto p = problems(kHead +
                    "pools:\n"
                    "  app:\n"
                    "    servers: [{address: \"127.0.0.1:1\", wieght: 2}]\n"
                    "    queue: {size: 1, tmeout: 1s}\n"
                    "rules:\n"
                    "  - match: {path_prefx: /}\n"
                    "    pool: app\n");
  CHECK(p == Lines{"t.yaml:4:40: error: unknown key \"wieght\" in pools.app.servers[0] (did you "
                   "mean \"weight\"?)",
                   "t.yaml:5:22: error: unknown key \"tmeout\" in pools.app.queue (did you mean "
                   "\"timeout\"?)",
                   "t.yaml:7:13: error: unknown key \"path_prefx\" in rules[0].match (did you "
                   "mean \"path_prefix\"?)"});
}

TEST_CASE("a key given twice in one map is an error at the repeat") {
  CHECK(problems(kHead + "timeouts:\n  shutdown: 1s\n  shutdown: 2s\n") ==
        Lines{"t.yaml:4:3: error: key \"shutdown\" repeated in timeouts: it may appear only once"});
}

TEST_CASE("wrong types are errors naming what was expected and what was found") {
  CHECK(problems(kHead + "timeouts: 10s\n") ==
        Lines{"t.yaml:2:11: error: timeouts: expected a map of keys, got \"10s\""});
  CHECK(problems(kHead + "user: [a, b]\n") ==
        Lines{"t.yaml:2:7: error: user: expected a string, got a list"});
  CHECK(problems(kHead + "cache: {share_http_https: maybe}\n") ==
        Lines{"t.yaml:2:27: error: cache.share_http_https: expected true or false, got \"maybe\""});
  CHECK(problems(kHead + "limits: {max_connections: lots}\n") ==
        Lines{"t.yaml:2:27: error: limits.max_connections: expected a whole number from 1 to "
              "100000000, got \"lots\""});
  CHECK(problems(kHead + "workers: 0\n") ==
        Lines{"t.yaml:2:10: error: workers: expected auto or a number from 1 to 1024, got \"0\""});
  CHECK(problems("[1, 2]\n") ==
        Lines{"t.yaml:1:1: error: the top level must be a map of settings (workers, listeners, "
              "pools, ...)"});
}

TEST_CASE("a value left empty is reported at its key") {
  CHECK(problems(kHead + "user:\ntimeouts: {}\n") ==
        Lines{"t.yaml:2:1: error: user: expected a string, got nothing"});
}

TEST_CASE("bad durations and sizes are errors at the value") {
  CHECK(problems(kHead + "timeouts:\n  client_header: 10\n") ==
        Lines{"t.yaml:3:18: error: timeouts.client_header: expected a duration like 10s, got "
              "\"10\": a unit is required (ms, s, m, h or d)"});
  CHECK(problems(kHead + "timeouts: {shutdown: 0s}\n") ==
        Lines{"t.yaml:2:22: error: timeouts.shutdown: must be longer than 0"});
  CHECK(problems(kHead + "timeouts: {shutdown: -1s}\n") ==
        Lines{"t.yaml:2:22: error: timeouts.shutdown: expected a duration like 10s, got \"-1s\": "
              "a duration cannot be negative"});
  CHECK(problems(kHead + "buffering: {response_memory: 16KB}\n") ==
        Lines{"t.yaml:2:30: error: buffering.response_memory: expected a size like 512, 16KiB or "
              "256MiB, got \"16KB\": unknown unit \"KB\" (use KiB, MiB, GiB or TiB, powers of "
              "1024, or no unit for bytes)"});
  CHECK(problems(kHead + "buffering: {request_memory: 0}\n") ==
        Lines{"t.yaml:2:29: error: buffering.request_memory: must be more than 0"});
  CHECK(problems(kHead + "cache: {memory: 99999999999TiB}\n").size() == 1);
}

TEST_CASE("zero is accepted where it means something") {
  CHECK(problems(kHead + "cache: {stale_if_error: 0s, stale_while_revalidate: 0ms}\n"
                         "buffering: {max_temp_file: 0}\n")
            .empty());
}

TEST_CASE("listener problems: no listeners, missing or bad address, repeated name or address") {
  CHECK(problems("workers: 2\n") ==
        Lines{"t.yaml:1:1: error: no listeners: at least one is required"});
  CHECK(problems("listeners: []\n") ==
        Lines{"t.yaml:1:12: error: no listeners: at least one is required"});
  auto p = problems(
      "listeners:\n"
      "  - name: a\n"
      "    address: \"127.0.0.1:80\"\n"
      "    admin: true\n"
      "  - name: a\n"
      "    address: \"127.0.0.1:80\"\n"
      "    admin: true\n"
      "  - name: b\n"
      "    admin: true\n"
      "  - name: c\n"
      "    address: \"localhost:80\"\n"
      "    admin: true\n"
      "  - {name: d, address: \"127.0.0.1:0\", admin: true}\n"
      "  - {name: e, address: \"127.0.0.1:0\", admin: true}\n"
      "  - {name: f, address: \"[::1]:99999\", admin: true}\n");
  CHECK(p == Lines{
                 "t.yaml:5:11: error: listeners[1].name: another listener is named \"a\"",
                 "t.yaml:6:14: error: listeners[1].address: another listener already uses "
                 "\"127.0.0.1:80\"",
                 "t.yaml:8:5: error: missing key \"address\" in listeners[2]",
                 "t.yaml:11:14: error: listeners[3].address: expected host:port, [v6]:port or "
                 "unix:/path, got \"localhost:80\": a listener binds an IP address, not a host "
                 "name (use 127.0.0.1, 0.0.0.0, [::1] or [::])",
                 "t.yaml:15:24: error: listeners[6].address: expected host:port, [v6]:port or "
                 "unix:/path, got \"[::1]:99999\": the port must be a number from 0 to 65535",
             });
}

TEST_CASE("tls problems: unreadable files, bad version and protocols") {
  auto p = problems(
      "listeners:\n"
      "  - name: https\n"
      "    address: \"127.0.0.1:0\"\n"
      "    admin: true\n"
      "    tls:\n"
      "      certificates:\n"
      "        - {cert: /nonexistent/a.crt, key: /}\n"
      "      min_version: TLSv1.1\n"
      "      alpn: [h2, h3, h2]\n");
  CHECK(p == Lines{
                 "t.yaml:7:18: error: listeners[0].tls.certificates[0].cert: cannot read "
                 "\"/nonexistent/a.crt\": No such file or directory",
                 "t.yaml:7:43: error: listeners[0].tls.certificates[0].key: cannot read \"/\": "
                 "it is a directory",
                 "t.yaml:8:20: error: listeners[0].tls.min_version: expected TLSv1.2 or TLSv1.3, "
                 "got \"TLSv1.1\"",
                 "t.yaml:9:18: error: listeners[0].tls.alpn[1]: expected h2 or http/1.1, got "
                 "\"h3\"",
                 "t.yaml:9:22: error: listeners[0].tls.alpn[2]: \"h2\" is listed twice",
             });
  CHECK(problems("listeners:\n  - {name: s, address: \"127.0.0.1:0\", admin: true, tls: {}}\n") ==
        Lines{"t.yaml:2:57: error: missing key \"certificates\" in listeners[0].tls"});
}

TEST_CASE("a tcp listener must name a pool that exists") {
  auto p = problems(
      "pools: {git: {servers: [\"127.0.0.1:9418\"]}}\n"
      "listeners:\n"
      "  - {name: a, address: \"127.0.0.1:0\", tcp: {pool: git}}\n"
      "  - {name: b, address: \"127.0.0.1:0\", tcp: {pool: gti, proxy_protocol: v3}}\n"
      "  - {name: c, address: \"127.0.0.1:0\", tcp: {}}\n");
  CHECK(p == Lines{
                 "t.yaml:4:51: error: listeners[1].tcp.pool: no pool named \"gti\"",
                 "t.yaml:4:72: error: listeners[1].tcp.proxy_protocol: expected v1 or v2, got "
                 "\"v3\"",
                 "t.yaml:5:44: error: missing key \"pool\" in listeners[2].tcp",
             });
}

TEST_CASE("pool problems: no servers, bad server, weight below 1, bad balance") {
  auto p = problems(kHead +
                    "pools:\n"
                    "  empty: {servers: []}\n"
                    "  none: {}\n"
                    "  bad:\n"
                    "    balance: fastest\n"
                    "    servers:\n"
                    "      - \"127.0.0.1\"\n"
                    "      - {address: \"127.0.0.1:1\", weight: 0}\n"
                    "    health_check: {interval: 0s}\n");
  CHECK(p == Lines{
                 "t.yaml:3:20: error: pools.empty.servers: at least one server is required",
                 "t.yaml:4:9: error: missing key \"servers\" in pools.none",
                 "t.yaml:6:14: error: pools.bad.balance: expected round_robin, least_conn, "
                 "ip_hash or random_two, got \"fastest\"",
                 "t.yaml:8:9: error: pools.bad.servers[0]: expected host:port, [v6]:port or "
                 "unix:/path, got \"127.0.0.1\": missing \":port\"",
                 "t.yaml:9:42: error: pools.bad.servers[1].weight: expected a whole number from 1 "
                 "to 1000, got \"0\"",
                 "t.yaml:10:19: error: missing key \"path\" in pools.bad.health_check",
                 "t.yaml:10:30: error: pools.bad.health_check.interval: must be longer than 0",
             });
}

TEST_CASE("a rule naming a pool that does not exist is an error at the name") {
  CHECK(problems(kHead + "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
                         "rules:\n"
                         "  - pool: ap\n") ==
        Lines{"t.yaml:4:11: error: rules[0].pool: no pool named \"ap\""});
}

TEST_CASE("a rule with more than one terminal action is an error at the rule") {
  CHECK(problems(kHead + "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
                         "rules:\n"
                         "  - name: both\n"
                         "    pool: app\n"
                         "    redirect: {to: /elsewhere}\n") ==
        Lines{"t.yaml:4:5: error: rules[0]: a rule takes at most one of pool, static, respond and "
              "redirect"});
}

TEST_CASE("internal locations: both or neither of root and pool, missing pool, bad prefixes") {
  auto p = problems(kHead +
                    "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
                    "internal:\n"
                    "  - {prefix: /a/, root: /srv/a, pool: app}\n"
                    "  - {prefix: /b/}\n"
                    "  - {prefix: /c/, pool: nope}\n"
                    "  - {prefix: /d, root: /srv/d}\n"
                    "  - {prefix: /a/b/, root: relative}\n");
  CHECK(p == Lines{
                 "t.yaml:4:5: error: internal[0]: has both root and pool: an internal location "
                 "serves from one of them",
                 "t.yaml:5:5: error: internal[1]: needs a root (a directory) or a pool to serve "
                 "from",
                 "t.yaml:6:25: error: internal[2].pool: no pool named \"nope\"",
                 "t.yaml:7:14: error: internal[3].prefix: expected a prefix that starts and ends "
                 "with \"/\", got \"/d\"",
                 "t.yaml:8:14: error: internal[4].prefix: \"/a/b/\" overlaps \"/a/\" (line 4): "
                 "one is a prefix of the other",
             });
}

TEST_CASE("identical internal prefixes overlap") {
  CHECK(problems(kHead + "internal:\n  - {prefix: /x/, root: /a}\n  - {prefix: /x/, root: /b}\n") ==
        Lines{"t.yaml:4:14: error: internal[1].prefix: \"/x/\" overlaps \"/x/\" (line 3): one is a "
              "prefix of the other"});
}

TEST_CASE("regexes that do not compile are errors carrying RE2's message") {
  auto p = problems(kHead +
                    "rules:\n"
                    "  - match:\n"
                    "      path: \"(unclosed\"\n"
                    "      user_agent: [ok, \"a**\"]\n"
                    "      header: {X-Id: \"[z-a]\"}\n"
                    "    respond: {status: 204}\n");
  CHECK(p == Lines{
                 "t.yaml:4:13: error: rules[0].match.path: regex does not compile: missing ): "
                 "(unclosed",
                 "t.yaml:5:24: error: rules[0].match.user_agent[1]: regex does not compile: bad "
                 "repetition operator: **",
                 "t.yaml:6:22: error: rules[0].match.header.X-Id: regex does not compile: invalid "
                 "character class range: z-a",
             });
}

TEST_CASE("bad CIDR blocks are errors; host bits past the prefix are a warning") {
  auto p = problems(kHead +
                    "rules:\n"
                    "  - match: {source: [\"10.0.0.0/33\", \"fd00::/200\", \"10.1.2.3/8\", nope]}\n"
                    "    respond: {status: 403}\n");
  CHECK(p == Lines{
                 "t.yaml:3:22: error: rules[0].match.source[0]: expected a CIDR block like "
                 "10.0.0.0/8 or fd00::/16, got \"10.0.0.0/33\": the prefix length must be a number "
                 "from 0 to 32",
                 "t.yaml:3:37: error: rules[0].match.source[1]: expected a CIDR block like "
                 "10.0.0.0/8 or fd00::/16, got \"fd00::/200\": the prefix length must be a number "
                 "from 0 to 128",
                 "t.yaml:3:51: warning: rules[0].match.source[2]: \"10.1.2.3/8\" has bits set past "
                 "its prefix length; they are ignored",
                 "t.yaml:3:65: error: rules[0].match.source[3]: expected a CIDR block like "
                 "10.0.0.0/8 or fd00::/16, got \"nope\": not an IPv4 or IPv6 address",
             });
}

TEST_CASE("rule actions with bad values are errors at the value") {
  auto p = problems(kHead +
                    "rules:\n"
                    "  - match: {listener: nope, method: get}\n"
                    "    redirect: {to: example.org, status: 303}\n"
                    "    cache: forever\n"
                    "    rate_limit: {rate: 20/h}\n"
                    "    buffering: sometimes\n"
                    "    response_headers: {set: {\"Bad Name\": x}, remove: [X-Ok]}\n");
  CHECK(p ==
        Lines{
            "t.yaml:3:23: error: rules[0].match.listener: no listener named \"nope\"",
            "t.yaml:3:37: warning: rules[0].match.method: methods are case-sensitive: "
            "\"get\" is not \"GET\"",
            "t.yaml:4:20: error: rules[0].redirect.to: expected a URL (http:// or https://) or "
            "a path starting with \"/\", got \"example.org\"",
            "t.yaml:4:41: error: rules[0].redirect.status: expected 301, 302, 307 or 308, got "
            "\"303\"",
            "t.yaml:5:12: error: rules[0].cache: expected bypass or {ttl: DURATION}, got "
            "\"forever\"",
            "t.yaml:6:24: error: rules[0].rate_limit.rate: expected a rate like 20/s or 600/m, "
            "got \"20/h\": the period must be s or m",
            "t.yaml:7:16: error: rules[0].buffering: expected true or false, got \"sometimes\"",
            "t.yaml:8:30: error: rules[0].response_headers.set.Bad Name: expected a header "
            "name, got \"Bad Name\"",
        });
}

TEST_CASE("an empty list under match is an error: it would match nothing") {
  CHECK(problems(kHead + "rules:\n  - match: {host: []}\n    respond: {status: 404}\n") ==
        Lines{"t.yaml:3:19: error: rules[0].match.host: an empty list matches no request: remove "
              "the key or give it a value"});
}

TEST_CASE("two rules with one name are an error at the second") {
  CHECK(problems(kHead + "rules:\n  - {name: x, respond: {status: 200}}\n"
                         "  - {name: x, respond: {status: 200}}\n") ==
        Lines{"t.yaml:4:5: error: rules[1]: another rule is named \"x\"",
              "t.yaml:4:5: warning: rules[1]: rule \"x\" is never reached: rule \"x\" (line 3) "
              "matches every request"});
}

TEST_CASE("the loader keeps going after an error and reports all of them in file order") {
  auto p = problems(kHead +
                    "rules:\n"
                    "  - pool: missing\n"
                    "timeouts: {shutdown: 5}\n"
                    "pools:\n"
                    "  app: {servers: []}\n");
  REQUIRE(p.size() == 3);
  CHECK(p[0].starts_with("t.yaml:3:"));
  CHECK(p[1].starts_with("t.yaml:4:"));
  CHECK(p[2].starts_with("t.yaml:6:"));
}
