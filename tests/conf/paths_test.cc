// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "conf/loader.h"
#include "conf/path_checks.h"
#include "tests/conf/test_util.h"

using namespace conf;

namespace {

// A config naming every kind of path relatively; cert.pem, key.pem and staple.der must exist
// in the config's directory for it to load.
const std::string kRelative =
    "pid_file: run/gatehouse.pid\n"
    "listeners:\n"
    "  - name: https\n"
    "    address: \"127.0.0.1:0\"\n"
    "    tls:\n"
    "      certificates:\n"
    "        - {cert: cert.pem, key: ./key.pem, ocsp_staple: staple.der}\n"
    "  - {name: local, address: \"unix:run/gh.sock\"}\n"
    "buffering: {temp_path: tmp}\n"
    "cache: {disk: {path: ../cache, size: 1GiB}}\n"
    "pools:\n"
    "  app: {servers: [\"unix:app.sock\", \"unix:/abs/app.sock\", \"127.0.0.1:1\"]}\n"
    "internal: [{prefix: /x/, root: files}]\n"
    "sendfile_roots: [srv, /srv/abs]\n"
    "rules:\n"
    "  - {match: {path_prefix: /s/}, static: {root: public/}}\n"
    "  - pool: app\n"
    "access_log: {path: log/access.log}\n";

}  // namespace

TEST_CASE("relative paths resolve against the config file's directory, not the working one") {
  TempDir dir;
  for (auto name : {"cert.pem", "key.pem", "staple.der"}) dir.write(name, "x");
  auto r = load_string(kRelative, dir.path() + "/gatehouse.yaml");
  for (const auto& p : r.problems) FAIL_CHECK(format_problem(p));
  REQUIRE(r.config);
  const Config& c = *r.config;
  const std::string d = dir.path();
  CHECK(c.pid_file == d + "/run/gatehouse.pid");
  const auto& cert = c.listeners[0].tls->certificates[0];
  CHECK(cert.cert == d + "/cert.pem");
  CHECK(cert.key == d + "/key.pem");
  CHECK(cert.ocsp_staple == d + "/staple.der");
  CHECK(c.listeners[1].address == "unix:" + d + "/run/gh.sock");
  CHECK(c.buffering.temp_path == d + "/tmp");
  CHECK(c.cache.disk->path == d + "/../cache");
  CHECK(c.pools[0].servers[0].address == "unix:" + d + "/app.sock");
  CHECK(c.pools[0].servers[1].address == "unix:/abs/app.sock");
  CHECK(c.pools[0].servers[2].address == "127.0.0.1:1");
  CHECK(c.internal[0].root == d + "/files");
  CHECK(c.sendfile_roots == std::vector<std::string>{d + "/srv", "/srv/abs"});
  CHECK(c.rules[0].static_root == d + "/public/");
  CHECK(c.access_log.path == d + "/log/access.log");
}

TEST_CASE("a relative config file name resolves against the working directory") {
  TempDir dir;
  for (auto name : {"cert.pem", "key.pem", "staple.der"}) dir.write(name, "x");
  char cwd[4096];
  REQUIRE(getcwd(cwd, sizeof cwd));
  REQUIRE(chdir(dir.c_str()) == 0);
  auto r = load_string(kRelative, "gatehouse.yaml");
  auto nested =
      load_string("pid_file: x.pid\n" + kRelative.substr(kRelative.find('\n') + 1), "./sub/g.yaml");
  REQUIRE(chdir(cwd) == 0);
  REQUIRE(r.config);
  CHECK(r.config->pid_file == dir.path() + "/run/gatehouse.pid");
  // The files are not in sub/, so only they are reported; the pid file lands in sub/.
  REQUIRE(!nested.problems.empty());
  CHECK(nested.problems[0].message.find(dir.path() + "/sub/cert.pem") != std::string::npos);
}

TEST_CASE("absolute paths, the standard output and special files are kept as written") {
  auto r = load_string(
      "listeners: [{name: h, address: \"127.0.0.1:0\"}]\n"
      "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
      "rules: [{pool: app}]\n"
      "buffering: {temp_path: /var/tmp}\n"
      "access_log: {path: \"-\"}\n",
      "/etc/gatehouse/g.yaml");
  REQUIRE(r.config);
  CHECK(r.config->buffering.temp_path == "/var/tmp");
  CHECK(r.config->access_log.path == "-");
  auto out = load_string(
      "listeners: [{name: h, address: \"127.0.0.1:0\"}]\n"
      "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
      "rules: [{pool: app}]\n"
      "access_log: {path: /dev/stdout}\n",
      "/etc/gatehouse/g.yaml");
  REQUIRE(out.config);
  CHECK(out.config->access_log.path == "/dev/stdout");
}

namespace {

std::vector<std::string> path_problems(const std::string& settings) {
  auto r = load_string(
      "listeners: [{name: h, address: \"127.0.0.1:0\"}]\n"
      "pools: {app: {servers: [\"127.0.0.1:1\"]}}\n"
      "rules: [{pool: app}]\n" +
          settings,
      "/etc/gatehouse/g.yaml");
  REQUIRE(r.config);
  std::vector<std::string> out;
  for (const auto& p : check_paths(*r.config, "g.yaml")) out.push_back(format_problem(p));
  return out;
}

}  // namespace

TEST_CASE("check_paths refuses a missing temp_path or access log directory at its line") {
  TempDir dir;
  const std::string d = dir.path();
  CHECK(path_problems("buffering: {temp_path: " + d + "}\naccess_log: {path: " + d + "/a.log}\n")
            .empty());
  CHECK(path_problems("buffering:\n  temp_path: " + d + "/nope\n") ==
        std::vector<std::string>{"g.yaml:5:14: error: buffering.temp_path: directory \"" + d +
                                 "/nope\" does not exist"});
  std::string file = dir.write("f", "");
  CHECK(path_problems("buffering: {temp_path: " + file + "}\n") ==
        std::vector<std::string>{"g.yaml:4:24: error: buffering.temp_path: \"" + file +
                                 "\" is not a directory"});
  CHECK(path_problems("access_log: {path: " + d + "/no/a.log}\n") ==
        std::vector<std::string>{"g.yaml:4:20: error: access_log.path: directory \"" + d +
                                 "/no\" does not exist"});
  CHECK(path_problems("access_log: {path: " + d + "}\n") ==
        std::vector<std::string>{"g.yaml:4:20: error: access_log.path: \"" + d +
                                 "\" is a directory"});
  CHECK(path_problems("access_log: {path: /dev/stdout}\n").empty());
  CHECK(path_problems("access_log: {path: \"-\"}\n").empty());
  CHECK(
      path_problems("user: no-such-user-gatehouse\n") ==
      std::vector<std::string>{"g.yaml:4:7: error: user: no such user \"no-such-user-gatehouse\""});
}

TEST_CASE("check_paths tests the directories with the user's rights when running as root") {
  if (geteuid() != 0) return;  // only root can switch users
  TempDir dir;
  const std::string d = dir.path();
  REQUIRE(chmod(d.c_str(), 0755) == 0);
  CHECK(path_problems("user: nobody\nbuffering: {temp_path: " + d + "}\n") ==
        std::vector<std::string>{"g.yaml:5:24: error: buffering.temp_path: user \"nobody\" "
                                 "cannot write to \"" +
                                 d + "\": Permission denied"});
  CHECK(path_problems("user: nobody\naccess_log: {path: " + d + "/a.log}\n") ==
        std::vector<std::string>{"g.yaml:5:20: error: access_log.path: user \"nobody\" cannot "
                                 "write to \"" +
                                 d + "\": Permission denied"});
  REQUIRE(chmod(d.c_str(), 01777) == 0);
  CHECK(path_problems("user: nobody\nbuffering: {temp_path: " + d + "}\n").empty());
  // Root itself may write anywhere; without `user:` the worker stays root.
  REQUIRE(chmod(d.c_str(), 0755) == 0);
  CHECK(path_problems("buffering: {temp_path: " + d + "}\n").empty());
}

TEST_CASE("check_paths refuses an internal root or a sendfile root that is not a directory") {
  TempDir dir;
  const std::string d = dir.path();
  std::string file = dir.write("f", "");
  CHECK(path_problems("internal: [{prefix: /t/, root: " + d + "}]\nsendfile_roots: [" + d + "]\n")
            .empty());
  CHECK(path_problems("internal:\n  - {prefix: /t/, root: " + d + "/nope}\n") ==
        std::vector<std::string>{"g.yaml:5:25: error: internal[0].root: directory \"" + d +
                                 "/nope\" does not exist"});
  CHECK(path_problems("internal:\n  - {prefix: /p/, pool: app}\n  - {prefix: /t/, root: " + file +
                      "}\n") ==
        std::vector<std::string>{"g.yaml:6:25: error: internal[1].root: \"" + file +
                                 "\" is not a directory"});
  CHECK(path_problems("sendfile_roots: [" + d + ", " + d + "/gone]\n") ==
        std::vector<std::string>{"g.yaml:4:" + std::to_string(18 + d.size() + 2) +
                                 ": error: sendfile_roots[1]: directory \"" + d +
                                 "/gone\" does not exist"});
}
