// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The typed, immutable result of loading a gatehouse YAML file. Every default here is the one
// documented in ../shared/spec/interface.md and README.md. Values are validated by the loader;
// consumers never re-check ranges.
namespace conf {

using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

// Where a setting is in the file (1-based), for the checks that run after loading; 0: not set.
struct Position {
  int line = 0;
  int column = 0;
};

struct Certificate {
  std::string cert;         // PEM path: leaf first, then chain
  std::string key;          // PEM path
  std::string ocsp_staple;  // DER path, empty if none
  int line = 0;             // where `cert:` is, for messages
  int column = 0;
  Position ocsp_staple_at;
};

struct TlsConfig {
  std::vector<Certificate> certificates;  // first is the default
  std::string min_version = "TLSv1.2";    // TLSv1.2 | TLSv1.3
  std::vector<std::string> alpn = {"h2", "http/1.1"};
};

struct TcpRelay {
  std::string pool;
  std::string proxy_protocol;  // "", "v1" or "v2"
};

struct Listener {
  std::string name;
  std::string address;  // "host:port", "[v6]:port" or "unix:/path"
  bool admin = false;
  std::optional<TlsConfig> tls;
  std::optional<TcpRelay> tcp;
  int line = 0;  // where it was declared, for messages
};

struct Timeouts {
  Duration client_header = 10s;
  Duration client_idle = 75s;
  Duration client_body = 60s;  // between two reads of a request body
  Duration client_send = 60s;  // a client that accepts no byte for this long is dropped
  Duration backend_connect = 3s;
  Duration backend_response = 30s;  // first byte, then between two reads
  Duration shutdown = 30s;
};

struct Buffering {
  uint64_t response_memory = 256 * KiB;
  uint64_t request_memory = 1 * MiB;
  // Per response and per client connection (an HTTP/2 connection's streams together); past it
  // the backend is read at the client's pace. 0: never spill to disk.
  uint64_t max_temp_file = 1 * GiB;
  std::string temp_path = "/tmp";
  Position temp_path_at;
};

struct Limits {
  uint64_t max_request_header = 16 * KiB;
  uint64_t max_request_line = 8 * KiB;  // past it: 414
  uint64_t max_request_body = 1 * GiB;
  uint64_t max_connections = 100000;
  uint64_t max_connections_per_client = 0;  // 0: no per-client limit (NAT, CI farms)
};

struct DiskCache {
  std::string path;
  uint64_t size = 0;
};

struct CacheConfig {
  bool enabled = false;  // the config has a cache: section (else nothing is cached)
  uint64_t memory = 256 * MiB;
  std::optional<DiskCache> disk;
  uint64_t max_object_size = 4 * GiB;
  bool share_http_https = true;
  std::string status_header;  // empty: none sent
  std::vector<std::string> compress;
  std::string targeted_header;
  Duration stale_while_revalidate = 10s;
  Duration stale_if_error = 1h;
};

struct HealthCheck {
  std::string path;
  Duration interval = 2s;
  Duration timeout = 1s;
  int rise = 2;
  int fall = 3;
};

struct Server {
  std::string address;  // "host:port", "[v6]:port" or "unix:/path"
  int weight = 1;
  int line = 0, column = 0;  // where the address is, for "host not found" messages
};

enum class Balance { kRoundRobin, kLeastConn, kIpHash, kRandomTwo, kHeaderHash };

struct Pool {
  std::string name;
  Balance balance = Balance::kRoundRobin;
  std::string hash_header;  // for kHeaderHash
  std::vector<Server> servers;
  std::optional<HealthCheck> health_check;
  int max_connections = 0;  // 0: unlimited
  int queue_size = 1024;
  Duration queue_timeout = 10s;
  int keepalive = 64;
  int retries = 1;
  int line = 0;
};

struct InternalLocation {
  std::string prefix;
  std::string root;  // either root or pool
  std::string pool;
  Position root_at;  // for the check that the root exists
};

struct HeaderEdits {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> remove;
};

struct RuleMatch {
  std::vector<std::string> host;
  std::vector<std::string> path_prefix;
  std::vector<std::string> path;  // RE2
  std::vector<std::string> method;
  // name -> RE2; a list of patterns for one name arrives joined as "(?:a)|(?:b)"
  std::vector<std::pair<std::string, std::string>> header;
  std::vector<std::string> user_agent;  // RE2
  std::vector<std::string> source;      // CIDR, or a bare address
  std::vector<std::string> listener;
};

struct RateLimit {
  std::string key = "client_ip";
  double rate = 0;  // per second, > 0
  int burst = 0;    // >= 1; when not configured: ceil(rate), at least 1
};

struct CacheAction {
  bool bypass = false;
  std::optional<Duration> ttl;
};

struct Respond {
  int status = 200;
  std::string body;
};

struct Redirect {
  std::string to;
  int status = 302;
};

// upload_offload: the request body is received into a file under |dir| (at most |max| bytes) and
// the backend gets its path, size and SHA-256 instead of the body (issue 11 point 7).
struct UploadOffload {
  std::string dir;
  uint64_t max = 0;
  Position dir_at;
};

struct Coalesce {
  bool body_key = false;
  std::optional<Duration> ttl;
};

// At most one of pool, static_root, respond and redirect is set (the terminal action); a rule
// with none only edits and rate-limits. A rule whose match is empty matches every request.
struct Rule {
  std::string name;  // unique; "rule-N" (1-based position) when not configured
  RuleMatch match;
  std::string pool;
  std::string static_root;
  Position static_root_at;  // of static.root, for `gatehouse check`
  bool buffering = true;    // false: `buffering: off`
  std::optional<CacheAction> cache;
  std::optional<RateLimit> rate_limit;
  std::optional<Respond> respond;
  std::optional<Redirect> redirect;
  std::optional<HeaderEdits> request_headers;
  std::optional<HeaderEdits> response_headers;
  std::optional<Coalesce> coalesce;
  std::optional<UploadOffload> upload_offload;
  int line = 0;
};

struct AccessLog {
  std::string path;                 // empty: no access log
  std::string format = "combined";  // combined | json
  Position path_at;
};

struct Config {
  std::string source;  // the file it came from; relative paths in it were resolved against its
                       // directory, so every path below is absolute (or "-" for the access log)
  int workers = 0;     // 0: auto, one per core
  std::string pid_file;
  std::string user;
  Position user_at;
  // How often the worker re-resolves the host names in `servers:`; zero: never (start and
  // reload only).
  Duration resolve_interval = 30s;
  std::vector<Listener> listeners;
  Timeouts timeouts;
  Buffering buffering;
  Limits limits;
  CacheConfig cache;
  std::vector<Pool> pools;
  std::vector<InternalLocation> internal;
  std::vector<std::string> sendfile_roots;
  std::vector<Position> sendfile_roots_at;  // sendfile_roots order
  std::vector<Rule> rules;
  AccessLog access_log;

  const Pool* find_pool(std::string_view name) const {
    for (const auto& p : pools)
      if (p.name == name) return &p;
    return nullptr;
  }
};

// One problem in a config file; printed as FILE:LINE:COLUMN: error: MESSAGE (1-based).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  bool warning = false;  // printed as "warning:", does not refuse the file
};

}  // namespace conf
