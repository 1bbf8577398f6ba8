// SPDX-License-Identifier: MIT
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/config.h"

// Typed, error-collecting access to a parsed YAML tree, private to the loader. Every accessor
// reports what is wrong at the offending node and returns nullopt (or skips the item), so the
// loader reads on and reports every problem in one pass.
namespace conf {

// A node together with where it is and what it is called, for messages.
struct Value {
  YAML::Node node;
  YAML::Mark mark;   // the node's, or its key's when the node is null (yaml-cpp marks nulls late)
  std::string path;  // "timeouts.client_header", "rules[2].match.path[0]"; empty for the root
  bool present = false;
  explicit operator bool() const { return present; }
};

class Reader {
 public:
  // |base_dir| (absolute) is what relative paths in the file resolve against: the file's own
  // directory, as nginx resolves against its prefix.
  Reader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  // Whether files the config names are checked for being readable (off: a worker parsing a text
  // the main process checked, the files' contents sent beside it).
  void set_check_files(bool on) { check_files_ = on; }
  bool check_files() const { return check_files_; }

  void error(const YAML::Mark& at, std::string message);
  // "PATH: MESSAGE" at the value.
  void error(const Value& v, std::string_view message);
  void warning(const Value& v, std::string_view message);
  void warning(const YAML::Mark& at, std::string message);
  bool has_errors() const;
  std::vector<ConfigError> take_problems();

  Value root(const YAML::Node& doc);

  // The key/value pairs of a map in file order (null counts as an empty map). Reports a value
  // that is not a map, keys that are not scalars and repeated keys (the repeat is dropped).
  std::vector<std::pair<Value, Value>> entries(const Value& map);
  // The items of a list (null counts as empty). With |scalar_ok|, a scalar stands for a list of
  // one. Reports anything else.
  std::vector<Value> items(const Value& list, bool scalar_ok);

  std::optional<std::string> string(const Value& v, bool allow_empty = false);
  std::optional<bool> boolean(const Value& v);  // true/false, yes/no, on/off
  std::optional<int64_t> integer(const Value& v, int64_t min, int64_t max);
  std::optional<Duration> duration(const Value& v, bool allow_zero = false);
  std::optional<uint64_t> size(const Value& v, bool allow_zero = false);
  std::optional<std::string> choice(const Value& v,
                                    std::initializer_list<std::string_view> options);
  // A filesystem path; a relative one is made absolute against the config file's directory.
  std::optional<std::string> path(const Value& v);
  // |s| made absolute against the config file's directory (unchanged when already absolute).
  std::string resolve(std::string_view s) const;
  // "unix:rel.sock" made "unix:/dir/rel.sock"; any other address unchanged.
  std::string resolve_address(std::string_view address) const;
  std::optional<std::string> header_name(const Value& v);

 private:
  std::string file_;
  std::string base_dir_;
  bool check_files_ = true;
  std::vector<ConfigError> problems_;
};

// The known keys of one map. Unknown keys are reported (with the closest known key as a hint).
class MapView {
 public:
  MapView(Reader& r, const Value& map, std::initializer_list<std::string_view> known);

  // The value under |key|; absent (false) when the key is not there.
  Value get(std::string_view key) const;
  // As get(), reporting a missing key at the map.
  Value require(std::string_view key) const;
  // False when the value was not a map (already reported).
  bool ok() const { return ok_; }
  // True when the map has no keys at all.
  bool empty() const { return fields_.empty(); }

 private:
  Reader& r_;
  Value self_;
  bool ok_ = true;
  std::vector<std::pair<Value, Value>> fields_;
};

// What a node is, for "expected X, got Y": the quoted scalar, "a list", "a map" or "nothing".
std::string describe(const YAML::Node& n);

// Where a key or list item lives: "a.b", "a[2]".
std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t i);

// The absolute directory of |file| (relative to the working directory when |file| is relative).
std::string directory_of(const std::string& file);

// Where |v| is, 1-based, for checks made after loading.
inline Position position_of(const Value& v) {
  return {v.mark.line + 1, v.mark.column + 1};
}

// Copies an accessor's result into a config field when there is one.
template <class T, class U>
void store(std::optional<T> v, U& out) {
  if (v) out = std::move(*v);
}

}  // namespace conf
