// SPDX-License-Identifier: MIT
#include "proxy/cli.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "conf/loader.h"
#include "conf/path_checks.h"
#include "gatehouse_version.h"
#include "proxy/base/log.h"
#include "proxy/io/socket_address.h"
#include "proxy/server_addresses.h"
#include "proxy/supervisor.h"
#include "proxy/tls_contexts.h"

namespace proxy {
namespace {

constexpr char kUsage[] =
    "usage: gatehouse [-c FILE] [--log-level LEVEL]   serve in the foreground\n"
    "       gatehouse check [-c FILE]                 validate FILE and exit\n"
    "       gatehouse --version | --help\n"
    "\n"
    "  -c, --config FILE    the YAML config (default: conf/gatehouse.yaml when it exists,\n"
    "                       else /etc/gatehouse/gatehouse.yaml)\n"
    "  --log-level LEVEL    error | warn | info | debug (default: info)\n"
    "\n"
    "signals to the main process: HUP reload, TERM/INT/QUIT graceful stop, USR1 reopen logs\n";

std::string default_config() {
  if (access("conf/gatehouse.yaml", R_OK) == 0) return "conf/gatehouse.yaml";
  return "/etc/gatehouse/gatehouse.yaml";
}

int check(const std::string& path) {
  conf::LoadResult r = conf::load_file(path);
  for (const auto& p : r.problems) printf("%s\n", conf::format_problem(p).c_str());
  if (!r.config) return 1;
  bool failed = false;
  auto problems = check_certificates(*r.config, path, time(nullptr));
  for (auto& p : conf::check_paths(*r.config, path)) problems.push_back(std::move(p));
  for (const auto& p : problems) {
    printf("%s\n", conf::format_problem(p).c_str());
    failed = failed || !p.warning;
  }
  // Host names in `servers:` are looked up, as at start and reload.
  for (const auto& p : resolve_servers(*r.config, io::resolve_address).problems) {
    printf("%s\n", conf::format_problem(p).c_str());
    failed = true;
  }
  if (failed) return 1;
  if (auto contexts = build_tls_contexts(*r.config, time(nullptr), nullptr); !contexts) {
    printf("%s: error: %s\n", path.c_str(), contexts.error().c_str());
    return 1;
  }
  printf("%s: ok\n", path.c_str());
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::string config;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version" || a == "-v" || a == "-V") {
      printf("gatehouse %s\n", GATEHOUSE_VERSION);
      return 0;
    }
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (a == "check" && i == 1) {
      check_only = true;
    } else if ((a == "-c" || a == "--config") && i + 1 < argc) {
      config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else if (a == "--log-level" && i + 1 < argc) {
      std::string level = argv[++i];
      if (level == "error")
        base::set_log_level(base::LogLevel::kError);
      else if (level == "warn")
        base::set_log_level(base::LogLevel::kWarn);
      else if (level == "info")
        base::set_log_level(base::LogLevel::kInfo);
      else if (level == "debug")
        base::set_log_level(base::LogLevel::kDebug);
      else {
        fprintf(stderr, "gatehouse: unknown log level '%s'\n%s", level.c_str(), kUsage);
        return 2;
      }
    } else if (a == "-c" || a == "--config" || a == "--log-level") {
      fprintf(stderr, "gatehouse: %s needs an argument (%s)\n%s", a.c_str(),
              a == "--log-level" ? "a LEVEL" : "the config FILE", kUsage);
      return 2;
    } else {
      fprintf(stderr, "gatehouse: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (config.empty()) config = default_config();
  if (check_only) return check(config);
  return run_supervisor(config);
}

}  // namespace proxy
