// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cmath>
#include <set>

#include "conf/match.h"
#include "conf/quote.h"
#include "conf/sections.h"
#include "conf/units.h"

namespace conf::sections {
namespace {

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

std::optional<CacheAction> read_cache(Reader& r, const Value& v) {
  CacheAction cache;
  if (v.node.IsMap()) {
    MapView m(r, v, {"ttl"});
    store(r.duration(m.require("ttl")), cache.ttl);
    return cache;
  }
  if (v.node.IsScalar() && v.node.Scalar() == "bypass") {
    cache.bypass = true;
    return cache;
  }
  r.error(v, "expected bypass or {ttl: DURATION}, got " + describe(v.node));
  return std::nullopt;
}

RateLimit read_rate_limit(Reader& r, const Value& v) {
  RateLimit rl;
  MapView m(r, v, {"key", "rate", "burst"});
  store(r.choice(m.get("key"), {"client_ip"}), rl.key);
  Value rate = m.require("rate");
  if (auto s = r.string(rate)) {
    if (auto per_second = parse_rate(*s))
      rl.rate = *per_second;
    else
      r.error(rate, "expected " + per_second.error());
  }
  // Without a burst, one second's worth of requests may arrive at once (at least one).
  rl.burst = std::max(1, static_cast<int>(std::ceil(rl.rate)));
  store(r.integer(m.get("burst"), 1, 1000000000), rl.burst);
  return rl;
}

Respond read_respond(Reader& r, const Value& v) {
  Respond resp;
  MapView m(r, v, {"status", "body"});
  store(r.integer(m.get("status"), 200, 599), resp.status);
  store(r.string(m.get("body"), true), resp.body);
  return resp;
}

Redirect read_redirect(Reader& r, const Value& v) {
  Redirect redirect;
  MapView m(r, v, {"to", "status"});
  Value to = m.require("to");
  if (auto s = r.string(to)) {
    if (!s->starts_with("/") && !s->starts_with("http://") && !s->starts_with("https://"))
      r.error(to, "expected a URL (http:// or https://) or a path starting with \"/\", got " +
                      quoted(*s));
    else if (has_line_break(*s))
      r.error(to, "must not contain a line break");
    redirect.to = *s;
  }
  if (auto s = r.choice(m.get("status"), {"301", "302", "307", "308"}))
    redirect.status = std::stoi(*s);
  return redirect;
}

HeaderEdits read_header_edits(Reader& r, const Value& v) {
  HeaderEdits edits;
  MapView m(r, v, {"set", "remove"});
  for (const auto& [key, val] : r.entries(m.get("set"))) {
    Value name_value = key;
    name_value.path = val.path;
    auto name = r.header_name(name_value);
    auto value = r.string(val, true);
    if (value && has_line_break(*value)) {
      r.error(val, "a header value must not contain a line break");
      continue;
    }
    if (name && value) edits.set.emplace_back(*name, *value);
  }
  for (const Value& item : r.items(m.get("remove"), true))
    if (auto name = r.header_name(item)) edits.remove.push_back(*name);
  return edits;
}

Coalesce read_coalesce(Reader& r, const Value& v) {
  Coalesce c;
  MapView m(r, v, {"body_key", "ttl"});
  store(r.boolean(m.get("body_key")), c.body_key);
  store(r.duration(m.get("ttl")), c.ttl);
  return c;
}

// What the checks after the loop need to know of each rule.
struct Seen {
  bool matches_all = false;
  bool terminal = false;
};

Rule read_rule(Reader& r, const Value& item, size_t index, const Config& config, Seen& seen) {
  Rule rule;
  rule.line = item.mark.line + 1;
  rule.name = "rule-" + std::to_string(index + 1);
  MapView m(r, item,
            {"name", "match", "pool", "static", "buffering", "cache", "rate_limit", "respond",
             "redirect", "request_headers", "response_headers", "coalesce", "upload_offload"});
  if (!m.ok()) return rule;
  store(r.string(m.get("name")), rule.name);
  seen.matches_all = read_match(r, m.get("match"), config, rule.match);
  Value pool = m.get("pool");
  if (auto s = r.string(pool)) {
    if (!config.find_pool(*s)) r.error(pool, "no pool named " + quoted(*s));
    rule.pool = *s;
  }
  if (Value st = m.get("static")) {
    MapView sm(r, st, {"root"});
    Value root = sm.require("root");
    store(r.path(root), rule.static_root);
    if (root) rule.static_root_at = position_of(root);
  }
  store(r.boolean(m.get("buffering")), rule.buffering);
  if (Value c = m.get("cache")) rule.cache = read_cache(r, c);
  if (Value rl = m.get("rate_limit")) rule.rate_limit = read_rate_limit(r, rl);
  if (Value resp = m.get("respond")) rule.respond = read_respond(r, resp);
  if (Value red = m.get("redirect")) rule.redirect = read_redirect(r, red);
  if (Value h = m.get("request_headers")) rule.request_headers = read_header_edits(r, h);
  if (Value h = m.get("response_headers")) rule.response_headers = read_header_edits(r, h);
  if (Value c = m.get("coalesce")) rule.coalesce = read_coalesce(r, c);
  if (Value u = m.get("upload_offload")) {
    UploadOffload up;
    MapView um(r, u, {"dir", "max"});
    Value dir = um.require("dir");
    up.dir_at = position_of(dir);
    store(r.path(dir), up.dir);
    store(r.size(um.require("max")), up.max);
    rule.upload_offload = std::move(up);
  }

  int terminals = 0;
  for (auto key : {"pool", "static", "respond", "redirect"}) terminals += m.get(key) ? 1 : 0;
  if (terminals > 1)
    r.error(item, "a rule takes at most one of pool, static, respond and redirect");
  seen.terminal = terminals > 0;
  return rule;
}

}  // namespace

void read_rules(Reader& r, const Value& v, Config& config) {
  std::set<std::string> names;
  bool has_default = false;
  std::optional<std::pair<std::string, int>> catch_all;  // first rule answering every request
  size_t index = 0;
  for (const Value& item : r.items(v, false)) {
    Seen seen;
    Rule rule = read_rule(r, item, index++, config, seen);
    if (!names.insert(rule.name).second)
      r.error(item, "another rule is named " + quoted(rule.name));
    if (catch_all)
      r.warning(item, "rule " + quoted(rule.name) + " is never reached: rule " +
                          quoted(catch_all->first) + " (line " + std::to_string(catch_all->second) +
                          ") matches every request");
    has_default |= seen.matches_all;
    if (seen.matches_all && seen.terminal && !catch_all) catch_all.emplace(rule.name, rule.line);
    config.rules.push_back(std::move(rule));
  }
  // Only HTTP listeners route through rules.
  bool routes = false;
  for (const auto& l : config.listeners) routes |= !l.admin && !l.tcp;
  if (routes && !has_default)
    r.warning(v, "no default rule (one without match): unmatched requests get 404");
}

}  // namespace conf::sections
