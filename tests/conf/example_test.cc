// SPDX-License-Identifier: MIT
// The example configuration of the interface spec, verbatim, must keep loading.
#include <doctest/doctest.h>

#include <string>

#include "conf/loader.h"
#include "tests/conf/test_util.h"

using namespace conf;

namespace {

// From shared/spec/interface.md, unchanged.
constexpr const char* kExample =
    R"yaml(workers: auto                 # event loops; auto = one per core
pid_file: /run/gatehouse.pid  # optional
user: gatehouse               # optional: drop privileges to this user after binding

listeners:
  - name: http
    address: "0.0.0.0:80"
  - name: https
    address: "0.0.0.0:443"
    tls:
      certificates:           # SNI picks by the names in each cert; the first is the default
        - cert: /etc/gatehouse/tls/example.org.crt   # PEM, leaf first, then chain
          key: /etc/gatehouse/tls/example.org.key
          ocsp_staple: /etc/gatehouse/tls/example.org.ocsp.der   # optional
      min_version: TLSv1.2
      alpn: [h2, http/1.1]
  - name: admin
    address: "127.0.0.1:9901"
    admin: true               # serves only the admin API below, never proxies
  - name: git-daemon          # plain TCP relay (git://, SSH): bytes to a pool, no HTTP
    address: "0.0.0.0:9418"
    tcp: { pool: gitdaemons, proxy_protocol: v2 }

timeouts:
  client_header: 10s          # whole request head must arrive within this
  client_idle: 75s            # keep-alive idle
  backend_connect: 3s
  backend_response: 30s       # first byte of the response; past it: 504, the backend connection is cut
  shutdown: 30s

buffering:                    # slow clients never hold a backend (as nginx does by default)
  response_memory: 256KiB     # per request; beyond it the response spills to a temporary file
  request_memory: 1MiB        # request bodies are received whole before the backend request starts
  temp_path: /var/lib/gatehouse/tmp

limits:
  max_request_header: 16KiB   # past it: 431
  max_request_body: 1GiB      # past it: 413
  max_connections: 100000
  max_connections_per_client: 512

cache:
  memory: 256MiB              # memory tier, LRU by bytes
  disk:                       # optional disk tier: big objects, survives restarts
    path: /var/cache/gatehouse
    size: 20GiB
  max_object_size: 4GiB
  share_http_https: true      # one cache for both schemes (the key leaves the scheme out)
  status_header: X-Cache      # HIT | MISS | STALE | REVALIDATED | BYPASS; omit the key to send none
  compress: [gzip, br]        # compressible types, compressed once and stored per encoding
  targeted_header: CDN-Cache-Control   # RFC 9213: wins over Cache-Control for our storage; not forwarded
  stale_while_revalidate: 10s # defaults when the response names none
  stale_if_error: 1h

pools:
  app:
    balance: round_robin      # round_robin | least_conn | ip_hash | random_two | hash: {header: NAME}
    servers:
      - "127.0.0.1:8001"
      - { address: "127.0.0.1:8002", weight: 2 }
      - "unix:/run/app/unicorn.sock"   # host:port, [v6]:port or unix:PATH
    health_check: { path: /-/health, interval: 2s, timeout: 1s, rise: 2, fall: 3 }
    max_connections: 256      # concurrent requests per server; more wait in the queue
    queue: { size: 1024, timeout: 10s }   # past either: 503
    keepalive: 64             # idle backend connections kept per server
    retries: 1                # idempotent requests only, and only before any response byte
  ci:
    balance: ip_hash          # consistent hashing: one client keeps its server while servers come and go
    servers: ["127.0.0.1:9001", "127.0.0.1:9002"]
    max_connections: 32

internal:                     # targets of X-Accel-Redirect; never reachable by a client request
  - prefix: /tarballs/
    root: /srv/gitorious/tarballs-cache/
  - prefix: /git-http/
    root: /srv/gitorious/repositories/
  - prefix: /objects/         # an internal location may proxy to a pool instead (object storage)
    pool: objectstore
sendfile_roots: [/srv/gitorious]   # X-Sendfile paths must lie under one of these

rules:                        # first match wins; the keys of one match all must hold
  - name: ci-bots
    match:
      user_agent: "(?i)(jenkins|gitlab-runner|buildkite|travis|circleci|drone)"   # RE2 syntax
    pool: ci
    rate_limit: { key: client_ip, rate: 20/s, burst: 40 }   # past it: 429 with Retry-After
  - name: ci-network
    match: { source: ["10.20.0.0/16", "fd00:20::/48"] }
    pool: ci
  - name: no-cache-for-pushes
    match: { method: [POST, PUT, PATCH, DELETE] }
    pool: app
    cache: bypass
  - name: assets
    match: { path_prefix: /assets/ }
    static: { root: /srv/app/public }   # served straight from disk, like an nginx root
  - name: git-smart-http
    match: { path: "/(info/refs|git-upload-pack|git-receive-pack)$" }
    pool: app
    buffering: off            # stream with backpressure
  - name: pages
    match: { path_prefix: /explore/ }
    pool: app
    cache: { ttl: 1d }        # overrides the backend's freshness for these
  - name: clone-storms       # identical git fetches from many CI jobs become one backend request
    match: { method: POST, path: "/git-upload-pack$" }
    pool: app
    coalesce: { body_key: true, ttl: 30s }
  - name: default
    pool: app

access_log: { path: /var/log/gatehouse/access.log, format: combined }   # combined | json
)yaml";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The example with its certificate files in |dir| and the two pools it names but leaves out.
std::string completed_example(const TempDir& dir) {
  for (const char* f : {"example.org.crt", "example.org.key", "example.org.ocsp.der"})
    dir.write(f, "placeholder");
  std::string yaml = replace_all(kExample, "/etc/gatehouse/tls/", dir.path() + "/");
  return replace_all(yaml, "\npools:\n",
                     "\npools:\n"
                     "  gitdaemons: { servers: [\"10.0.0.5:9418\"] }\n"
                     "  objectstore: { servers: [\"s3.internal:443\"] }\n");
}

std::vector<std::string> formatted(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems) out.push_back(format_problem(p));
  return out;
}

}  // namespace

TEST_CASE("the spec example is refused only for its missing files and pools") {
  auto r = load_string(kExample, "example.yaml");
  CHECK_FALSE(r.config);
  std::vector<std::string> want = {
      "example.yaml:12:17: error: listeners[1].tls.certificates[0].cert: cannot read "
      "\"/etc/gatehouse/tls/example.org.crt\": No such file or directory",
      "example.yaml:13:16: error: listeners[1].tls.certificates[0].key: cannot read "
      "\"/etc/gatehouse/tls/example.org.key\": No such file or directory",
      "example.yaml:14:24: error: listeners[1].tls.certificates[0].ocsp_staple: cannot read "
      "\"/etc/gatehouse/tls/example.org.ocsp.der\": No such file or directory",
      "example.yaml:22:18: error: listeners[3].tcp.pool: no pool named \"gitdaemons\"",
      "example.yaml:78:11: error: internal[2].pool: no pool named \"objectstore\"",
  };
  CHECK(formatted(r) == want);
}

TEST_CASE("the spec example with its files and pools present loads without a problem") {
  TempDir dir;
  auto r = load_string(completed_example(dir), "example.yaml");
  CHECK(formatted(r).empty());
  REQUIRE(r.config);
  const Config& c = *r.config;

  CHECK(c.source == "example.yaml");
  CHECK(c.workers == 0);
  CHECK(c.pid_file == "/run/gatehouse.pid");
  CHECK(c.user == "gatehouse");

  REQUIRE(c.listeners.size() == 4);
  CHECK(c.listeners[0].name == "http");
  CHECK(c.listeners[0].address == "0.0.0.0:80");
  CHECK(c.listeners[0].line == 6);
  CHECK_FALSE(c.listeners[0].tls);
  const auto& https = c.listeners[1];
  REQUIRE(https.tls);
  REQUIRE(https.tls->certificates.size() == 1);
  CHECK(https.tls->certificates[0].cert == dir.path() + "/example.org.crt");
  CHECK(https.tls->certificates[0].key == dir.path() + "/example.org.key");
  CHECK(https.tls->certificates[0].ocsp_staple == dir.path() + "/example.org.ocsp.der");
  CHECK(https.tls->min_version == "TLSv1.2");
  CHECK(https.tls->alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(c.listeners[2].admin);
  REQUIRE(c.listeners[3].tcp);
  CHECK(c.listeners[3].tcp->pool == "gitdaemons");
  CHECK(c.listeners[3].tcp->proxy_protocol == "v2");

  CHECK(c.timeouts.client_header == 10s);
  CHECK(c.timeouts.client_idle == 75s);
  CHECK(c.timeouts.backend_connect == 3s);
  CHECK(c.timeouts.backend_response == 30s);
  CHECK(c.timeouts.shutdown == 30s);
  CHECK(c.buffering.response_memory == 256 * KiB);
  CHECK(c.buffering.request_memory == 1 * MiB);
  CHECK(c.buffering.temp_path == "/var/lib/gatehouse/tmp");
  CHECK(c.limits.max_request_header == 16 * KiB);
  CHECK(c.limits.max_request_body == 1 * GiB);
  CHECK(c.limits.max_connections == 100000);
  CHECK(c.limits.max_connections_per_client == 512);

  CHECK(c.cache.memory == 256 * MiB);
  REQUIRE(c.cache.disk);
  CHECK(c.cache.disk->path == "/var/cache/gatehouse");
  CHECK(c.cache.disk->size == 20 * GiB);
  CHECK(c.cache.max_object_size == 4 * GiB);
  CHECK(c.cache.share_http_https);
  CHECK(c.cache.status_header == "X-Cache");
  CHECK(c.cache.compress == std::vector<std::string>{"gzip", "br"});
  CHECK(c.cache.targeted_header == "CDN-Cache-Control");
  CHECK(c.cache.stale_while_revalidate == 10s);
  CHECK(c.cache.stale_if_error == 1h);

  const Pool* app = c.find_pool("app");
  REQUIRE(app);
  CHECK(app->balance == Balance::kRoundRobin);
  REQUIRE(app->servers.size() == 3);
  CHECK(app->servers[0].address == "127.0.0.1:8001");
  CHECK(app->servers[0].weight == 1);
  CHECK(app->servers[1].address == "127.0.0.1:8002");
  CHECK(app->servers[1].weight == 2);
  CHECK(app->servers[2].address == "unix:/run/app/unicorn.sock");
  REQUIRE(app->health_check);
  CHECK(app->health_check->path == "/-/health");
  CHECK(app->health_check->interval == 2s);
  CHECK(app->health_check->timeout == 1s);
  CHECK(app->health_check->rise == 2);
  CHECK(app->health_check->fall == 3);
  CHECK(app->max_connections == 256);
  CHECK(app->queue_size == 1024);
  CHECK(app->queue_timeout == 10s);
  CHECK(app->keepalive == 64);
  CHECK(app->retries == 1);
  const Pool* ci = c.find_pool("ci");
  REQUIRE(ci);
  CHECK(ci->balance == Balance::kIpHash);
  CHECK(ci->servers.size() == 2);
  CHECK(ci->max_connections == 32);

  REQUIRE(c.internal.size() == 3);
  CHECK(c.internal[0].prefix == "/tarballs/");
  CHECK(c.internal[0].root == "/srv/gitorious/tarballs-cache/");
  CHECK(c.internal[2].pool == "objectstore");
  CHECK(c.sendfile_roots == std::vector<std::string>{"/srv/gitorious"});

  REQUIRE(c.rules.size() == 8);
  const auto& bots = c.rules[0];
  CHECK(bots.name == "ci-bots");
  CHECK(bots.match.user_agent.size() == 1);
  CHECK(bots.pool == "ci");
  REQUIRE(bots.rate_limit);
  CHECK(bots.rate_limit->key == "client_ip");
  CHECK(bots.rate_limit->rate == doctest::Approx(20));
  CHECK(bots.rate_limit->burst == 40);
  CHECK(c.rules[1].match.source == std::vector<std::string>{"10.20.0.0/16", "fd00:20::/48"});
  CHECK(c.rules[2].match.method == std::vector<std::string>{"POST", "PUT", "PATCH", "DELETE"});
  REQUIRE(c.rules[2].cache);
  CHECK(c.rules[2].cache->bypass);
  CHECK(c.rules[3].static_root == "/srv/app/public");
  CHECK(c.rules[3].match.path_prefix == std::vector<std::string>{"/assets/"});
  CHECK_FALSE(c.rules[4].buffering);
  CHECK(c.rules[3].buffering);
  REQUIRE(c.rules[5].cache);
  CHECK(c.rules[5].cache->ttl == 24h);
  REQUIRE(c.rules[6].coalesce);
  CHECK(c.rules[6].coalesce->body_key);
  CHECK(c.rules[6].coalesce->ttl == 30s);
  CHECK(c.rules[7].name == "default");
  CHECK(c.rules[7].pool == "app");

  CHECK(c.access_log.path == "/var/log/gatehouse/access.log");
  CHECK(c.access_log.format == "combined");
}

TEST_CASE("without the file checks, the files a config names are not looked at") {
  // A worker parses the text the main process checked; the key files may be closed to it.
  auto r = load_string(kExample, "example.yaml", false);
  std::vector<std::string> want = {
      "example.yaml:22:18: error: listeners[3].tcp.pool: no pool named \"gitdaemons\"",
      "example.yaml:78:11: error: internal[2].pool: no pool named \"objectstore\"",
  };
  CHECK(formatted(r) == want);
}
