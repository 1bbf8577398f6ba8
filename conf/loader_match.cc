// SPDX-License-Identifier: MIT
#include <re2/re2.h>

#include "conf/address.h"
#include "conf/match.h"
#include "conf/quote.h"

namespace conf::sections {
namespace {

// The items of a match key; reports an empty list, which would match no request.
std::vector<Value> match_items(Reader& r, const Value& v) {
  auto items = r.items(v, true);
  if (v && items.empty() && (v.node.IsNull() || v.node.IsSequence()))
    r.error(v, "an empty list matches no request: remove the key or give it a value");
  return items;
}

std::optional<std::string> regex(Reader& r, const Value& v) {
  auto s = r.string(v);
  if (!s) return std::nullopt;
  RE2 re(*s, RE2::Quiet);
  if (!re.ok()) {
    r.error(v, "regex does not compile: " + re.error());
    return std::nullopt;
  }
  return s;
}

void read_regexes(Reader& r, const Value& v, std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v))
    if (auto s = regex(r, item)) out.push_back(*s);
}

void read_hosts(Reader& r, const Value& v, std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v)) {
    auto s = r.string(item);
    if (!s) continue;
    if (s->find(':') != std::string::npos && !s->starts_with("["))
      r.error(item, quoted(*s) + ": the host is matched without its port");
    else
      out.push_back(*s);
  }
}

void read_path_prefixes(Reader& r, const Value& v, std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v)) {
    auto s = r.string(item);
    if (!s) continue;
    if (!s->starts_with("/"))
      r.error(item, "expected a path prefix starting with \"/\", got " + quoted(*s));
    else
      out.push_back(*s);
  }
}

void read_methods(Reader& r, const Value& v, std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v)) {
    auto s = r.string(item);
    if (!s) continue;
    if (!is_token(*s)) {
      r.error(item, "expected an HTTP method like GET, got " + quoted(*s));
      continue;
    }
    std::string upper = *s;
    for (char& c : upper)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (upper != *s)
      r.warning(item, "methods are case-sensitive: " + quoted(*s) + " is not " + quoted(upper));
    out.push_back(*s);
  }
}

// Each header name maps to one RE2; a list of them becomes one alternation.
void read_headers(Reader& r, const Value& v,
                  std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, val] : r.entries(v)) {
    Value name_value = key;
    name_value.path = val.path;
    auto name = r.header_name(name_value);
    std::vector<std::string> res;
    read_regexes(r, val, res);
    if (!name || res.empty()) continue;
    if (res.size() == 1) {
      out.emplace_back(*name, res[0]);
      continue;
    }
    std::string alt;
    for (const auto& re : res) alt += (alt.empty() ? "(?:" : "|(?:") + re + ")";
    out.emplace_back(*name, alt);
  }
}

void read_sources(Reader& r, const Value& v, std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v)) {
    auto s = r.string(item);
    if (!s) continue;
    auto host_bits = check_cidr(*s);
    if (!host_bits) {
      r.error(item, "expected " + host_bits.error());
      continue;
    }
    if (*host_bits)
      r.warning(item, quoted(*s) + " has bits set past its prefix length; they are ignored");
    out.push_back(*s);
  }
}

void read_listener_names(Reader& r, const Value& v, const Config& config,
                         std::vector<std::string>& out) {
  for (const Value& item : match_items(r, v)) {
    auto s = r.string(item);
    if (!s) continue;
    bool known = false;
    for (const auto& l : config.listeners) known |= l.name == *s;
    if (!known) r.error(item, "no listener named " + quoted(*s));
    out.push_back(*s);
  }
}

}  // namespace

bool read_match(Reader& r, const Value& v, const Config& config, RuleMatch& match) {
  MapView m(
      r, v,
      {"host", "path_prefix", "path", "method", "header", "user_agent", "source", "listener"});
  read_hosts(r, m.get("host"), match.host);
  read_path_prefixes(r, m.get("path_prefix"), match.path_prefix);
  read_regexes(r, m.get("path"), match.path);
  read_methods(r, m.get("method"), match.method);
  read_headers(r, m.get("header"), match.header);
  read_regexes(r, m.get("user_agent"), match.user_agent);
  read_sources(r, m.get("source"), match.source);
  read_listener_names(r, m.get("listener"), config, match.listener);
  return m.ok() && m.empty();
}

}  // namespace conf::sections
