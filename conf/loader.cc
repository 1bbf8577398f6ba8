// SPDX-License-Identifier: MIT
#include "conf/loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "conf/reader.h"
#include "conf/sections.h"
#include "conf/units.h"
#include "proxy/base/unique_fd.h"

namespace conf {
namespace {

constexpr int64_t kMaxWorkers = 1024;

void read_workers(Reader& r, const Value& v, Config& config) {
  if (!v) return;
  if (v.node.IsScalar() && v.node.Scalar() == "auto") {
    config.workers = 0;
    return;
  }
  if (v.node.IsScalar()) {
    auto n = parse_uint(v.node.Scalar());
    if (n && *n >= 1 && *n <= static_cast<uint64_t>(kMaxWorkers)) {
      config.workers = static_cast<int>(*n);
      return;
    }
  }
  r.error(v, "expected auto or a number from 1 to " + std::to_string(kMaxWorkers) + ", got " +
                 describe(v.node));
}

void read_config(Reader& r, const YAML::Node& doc, Config& config) {
  Value root = r.root(doc);
  if (!doc.IsMap() && !doc.IsNull()) {
    r.error(root, "the top level must be a map of settings (workers, listeners, pools, ...)");
    return;
  }
  MapView top(
      r, root,
      {"workers", "pid_file", "user", "listeners", "timeouts", "buffering", "limits", "cache",
       "pools", "internal", "sendfile_roots", "rules", "access_log", "resolve_interval"});
  read_workers(r, top.get("workers"), config);
  store(r.path(top.get("pid_file")), config.pid_file);
  if (Value user = top.get("user")) config.user_at = position_of(user);
  store(r.string(top.get("user")), config.user);
  store(r.duration(top.get("resolve_interval"), true), config.resolve_interval);
  sections::read_pools(r, top.get("pools"), config);
  Value listeners = top.get("listeners");
  sections::read_listeners(r, listeners, config);
  if (config.listeners.empty() &&
      (!listeners || listeners.node.IsNull() || listeners.node.IsSequence()))
    r.error(listeners.present ? listeners.mark : root.mark,
            "no listeners: at least one is required");
  sections::read_settings(r, top, config);
  sections::read_internal(r, top.get("internal"), config);
  sections::read_sendfile_roots(r, top.get("sendfile_roots"), config);
  sections::read_rules(r, top.get("rules"), config);
}

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& name, bool check_files) {
  Reader r(name, directory_of(name));
  r.set_check_files(check_files);
  auto config = std::make_shared<Config>();
  config->source = name;
  // yaml-cpp reports syntax errors, and nothing else here, by throwing; they become problems.
  try {
    YAML::Node doc = YAML::Load(std::string(yaml));
    read_config(r, doc, *config);
  } catch (const YAML::Exception& e) {
    r.error(e.mark, "invalid YAML: " + e.msg);
  }
  LoadResult result;
  if (!r.has_errors()) result.config = std::move(config);
  result.problems = r.take_problems();
  return result;
}

LoadResult load_file(const std::string& path, std::string* text_out) {
  std::string text;
  int err = 0;
  proxy::base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) err = errno;
  char buf[16384];
  while (err == 0) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (err != 0) {
    LoadResult result;
    result.problems.push_back(
        {path, 1, 1, std::string("cannot read file: ") + std::strerror(err), false});
    return result;
  }
  LoadResult result = load_string(text, path);
  if (text_out) *text_out = std::move(text);
  return result;
}

std::string format_problem(const ConfigError& e) {
  return e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) +
         (e.warning ? ": warning: " : ": error: ") + e.message;
}

}  // namespace conf
