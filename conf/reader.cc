// SPDX-License-Identifier: MIT
#include "conf/reader.h"
#include "conf/quote.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "conf/address.h"
#include "conf/units.h"

namespace conf {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return quoted(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

void Reader::error(const YAML::Mark& at, std::string message) {
  // yaml-cpp marks are 0-based; a node with no position (an empty document) points at 1:1.
  int line = at.line < 0 ? 1 : at.line + 1;
  int column = at.column < 0 ? 1 : at.column + 1;
  problems_.push_back({file_, line, column, std::move(message), false});
}

void Reader::warning(const YAML::Mark& at, std::string message) {
  error(at, std::move(message));
  problems_.back().warning = true;
}

void Reader::error(const Value& v, std::string_view message) {
  error(v.mark, v.path.empty() ? std::string(message) : v.path + ": " + std::string(message));
}

void Reader::warning(const Value& v, std::string_view message) {
  warning(v.mark, v.path.empty() ? std::string(message) : v.path + ": " + std::string(message));
}

bool Reader::has_errors() const {
  return std::any_of(problems_.begin(), problems_.end(),
                     [](const ConfigError& e) { return !e.warning; });
}

std::vector<ConfigError> Reader::take_problems() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(problems_);
}

Value Reader::root(const YAML::Node& doc) {
  return {doc, doc.Mark(), "", true};
}

std::vector<std::pair<Value, Value>> Reader::entries(const Value& map) {
  std::vector<std::pair<Value, Value>> out;
  if (!map || map.node.IsNull()) return out;
  if (!map.node.IsMap()) {
    error(map, "expected a map of keys, got " + describe(map.node));
    return out;
  }
  std::set<std::string> seen;
  for (const auto& pair : map.node) {
    // Copies: yaml-cpp's iterator yields a proxy whose members die with it.
    YAML::Node k = pair.first;
    YAML::Node v = pair.second;
    if (!k.IsScalar()) {
      error(k.Mark(), (map.path.empty() ? "" : map.path + ": ") +
                          "a key must be a plain name, got " + describe(k));
      continue;
    }
    const std::string& name = k.Scalar();
    if (!seen.insert(name).second) {
      error(k.Mark(), "key " + quoted(name) + " repeated" +
                          (map.path.empty() ? "" : " in " + map.path) +
                          ": it may appear only once");
      continue;
    }
    Value key{k, k.Mark(), map.path, true};
    Value val{v, v.IsNull() ? k.Mark() : v.Mark(), join_path(map.path, name), true};
    out.emplace_back(std::move(key), std::move(val));
  }
  return out;
}

std::vector<Value> Reader::items(const Value& list, bool scalar_ok) {
  std::vector<Value> out;
  if (!list || list.node.IsNull()) return out;
  if (list.node.IsScalar() && scalar_ok) {
    out.push_back(list);
    return out;
  }
  if (!list.node.IsSequence()) {
    error(list, std::string("expected a list") + (scalar_ok ? " or a single value" : "") +
                    ", got " + describe(list.node));
    return out;
  }
  size_t i = 0;
  for (YAML::Node item : list.node) {
    out.push_back({item, item.IsNull() ? list.mark : item.Mark(), index_path(list.path, i), true});
    ++i;
  }
  return out;
}

std::optional<std::string> Reader::string(const Value& v, bool allow_empty) {
  if (!v) return std::nullopt;
  if (!v.node.IsScalar()) {
    error(v, "expected a string, got " + describe(v.node));
    return std::nullopt;
  }
  if (v.node.Scalar().empty() && !allow_empty) {
    error(v, "must not be empty");
    return std::nullopt;
  }
  return v.node.Scalar();
}

std::optional<bool> Reader::boolean(const Value& v) {
  if (!v) return std::nullopt;
  if (v.node.IsScalar()) {
    std::string s = lower(v.node.Scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  error(v, "expected true or false, got " + describe(v.node));
  return std::nullopt;
}

std::optional<int64_t> Reader::integer(const Value& v, int64_t min, int64_t max) {
  if (!v) return std::nullopt;
  if (v.node.IsScalar()) {
    std::string_view s = v.node.Scalar();
    bool negative = s.starts_with("-");
    auto n = parse_uint(negative ? s.substr(1) : s);
    if (n && !negative && *n <= static_cast<uint64_t>(max) && static_cast<int64_t>(*n) >= min)
      return static_cast<int64_t>(*n);
    if (n && negative && min < 0 && *n <= static_cast<uint64_t>(-min))
      return -static_cast<int64_t>(*n);
  }
  error(v, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
               ", got " + describe(v.node));
  return std::nullopt;
}

std::optional<Duration> Reader::duration(const Value& v, bool allow_zero) {
  if (!v) return std::nullopt;
  if (!v.node.IsScalar()) {
    error(v, "expected a duration like 10s, got " + describe(v.node));
    return std::nullopt;
  }
  auto d = parse_duration(v.node.Scalar());
  if (!d) {
    error(v, "expected " + d.error());
    return std::nullopt;
  }
  if (d->count() == 0 && !allow_zero) {
    error(v, "must be longer than 0");
    return std::nullopt;
  }
  return *d;
}

std::optional<uint64_t> Reader::size(const Value& v, bool allow_zero) {
  if (!v) return std::nullopt;
  if (!v.node.IsScalar()) {
    error(v, "expected a size like 16KiB, got " + describe(v.node));
    return std::nullopt;
  }
  auto n = parse_size(v.node.Scalar());
  if (!n) {
    error(v, "expected " + n.error());
    return std::nullopt;
  }
  if (*n == 0 && !allow_zero) {
    error(v, "must be more than 0");
    return std::nullopt;
  }
  return *n;
}

std::optional<std::string> Reader::choice(const Value& v,
                                          std::initializer_list<std::string_view> options) {
  if (!v) return std::nullopt;
  if (v.node.IsScalar())
    for (auto o : options)
      if (v.node.Scalar() == o) return std::string(o);
  std::string list;
  size_t i = 0;
  for (auto o : options) {
    list += (i == 0 ? "" : i + 1 == options.size() ? " or " : ", ") + std::string(o);
    ++i;
  }
  error(v, "expected " + list + ", got " + describe(v.node));
  return std::nullopt;
}

std::optional<std::string> Reader::path(const Value& v) {
  auto s = string(v);
  if (s) s = resolve(*s);
  return s;
}

std::string Reader::resolve(std::string_view s) const {
  if (s.starts_with("/")) return std::string(s);
  while (s.starts_with("./")) s.remove_prefix(2);
  if (s == "." || s.empty()) return base_dir_;
  return base_dir_ + (base_dir_.ends_with("/") ? "" : "/") + std::string(s);
}

std::string Reader::resolve_address(std::string_view address) const {
  constexpr std::string_view kUnix = "unix:";
  if (!address.starts_with(kUnix) || address.size() == kUnix.size()) return std::string(address);
  return std::string(kUnix) + resolve(address.substr(kUnix.size()));
}

std::string directory_of(const std::string& file) {
  size_t slash = file.rfind('/');
  std::string dir = slash == std::string::npos ? "" : file.substr(0, slash);
  if (file.starts_with("/")) return dir.empty() ? "/" : dir;
  while (dir.starts_with("./")) dir.erase(0, 2);
  char cwd[4096];
  std::string base = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
  if (dir.empty() || dir == ".") return base;
  return base + (base.ends_with("/") ? "" : "/") + dir;
}

std::optional<std::string> Reader::header_name(const Value& v) {
  auto s = string(v);
  if (s && !is_token(*s)) {
    error(v, "expected a header name, got " + quoted(*s));
    return std::nullopt;
  }
  return s;
}

MapView::MapView(Reader& r, const Value& map, std::initializer_list<std::string_view> known)
    : r_(r), self_(map) {
  ok_ = !map || map.node.IsNull() || map.node.IsMap();
  fields_ = r.entries(map);
  for (const auto& [key, val] : fields_) {
    const std::string& name = key.node.Scalar();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string_view best;
    size_t best_d = 3;  // suggest only near misses
    for (auto k : known) {
      size_t d = edit_distance(lower(name), k);
      if (d < best_d && d < std::max<size_t>(k.size() / 2, 1)) best = k, best_d = d;
    }
    std::string msg = "unknown key " + quoted(name) +
                      (map.path.empty() ? " at the top level" : " in " + map.path);
    if (!best.empty()) msg += " (did you mean " + quoted(best) + "?)";
    r.error(key.mark, msg);
  }
}

Value MapView::get(std::string_view key) const {
  for (const auto& [k, v] : fields_)
    if (k.node.Scalar() == key) return v;
  return {YAML::Node(), self_.mark, join_path(self_.path, key), false};
}

Value MapView::require(std::string_view key) const {
  Value v = get(key);
  if (!v && ok_)
    r_.error(self_.mark, "missing key " + quoted(key) +
                             (self_.path.empty() ? " at the top level" : " in " + self_.path));
  return v;
}

}  // namespace conf
