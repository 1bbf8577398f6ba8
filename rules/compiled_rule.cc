// SPDX-License-Identifier: MIT
#include "rules/compiled_rule.h"

#include <algorithm>

#include "proxy/http/headers.h"

namespace rules {

namespace {

using proxy::base::unexpected;

using proxy::http::iequals;

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string_view without_trailing_dot(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

std::string error_text(const conf::Rule& rule, std::string_view key, std::string_view item,
                       std::string_view why) {
  std::string out = "rule ";
  out.append(rule.name).append(": ").append(key).append(" '").append(item).append("': ");
  out.append(why);
  return out;
}

// A regex compiled as the config's RE2 syntax, failures reported as values rather than logged.
proxy::base::Expected<std::unique_ptr<RE2>, std::string> compile_regex(const conf::Rule& rule,
                                                                       std::string_view key,
                                                                       const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return unexpected(error_text(rule, key, pattern, re->error()));
  return re;
}

proxy::base::Expected<std::vector<std::unique_ptr<RE2>>, std::string> compile_regexes(
    const conf::Rule& rule, std::string_view key, const std::vector<std::string>& patterns) {
  std::vector<std::unique_ptr<RE2>> out;
  for (const auto& p : patterns) {
    auto re = compile_regex(rule, key, p);
    if (!re) return unexpected(re.error());
    out.push_back(std::move(*re));
  }
  return out;
}

bool any_regex(const std::vector<std::unique_ptr<RE2>>& res, std::string_view text) {
  return std::any_of(res.begin(), res.end(), [text](const std::unique_ptr<RE2>& re) {
    return RE2::PartialMatch(re2::StringPiece(text), *re);
  });
}

// True if some field named |name| in |headers| has a value for which |value_matches| holds; false
// when there is no such field or no header list.
template <class Pred>
bool any_field_matches(const proxy::http::HeaderList* headers, std::string_view name,
                       Pred value_matches) {
  if (headers == nullptr) return false;
  for (const auto& field : *headers)
    if (iequals(field.name, name) && value_matches(field.value)) return true;
  return false;
}

bool any_equal(const std::vector<std::string>& items, std::string_view value) {
  return std::find(items.begin(), items.end(), value) != items.end();
}

bool host_matches(const CompiledRule::Host& pattern, std::string_view host) {
  if (!pattern.wildcard) return iequals(host, pattern.name);
  return host.size() > pattern.name.size() &&
         iequals(host.substr(host.size() - pattern.name.size()), pattern.name);
}

}  // namespace

proxy::base::Expected<CompiledRule, std::string> CompiledRule::compile(const conf::Rule& rule) {
  const conf::RuleMatch& m = rule.match;
  CompiledRule out;
  out.rule = &rule;
  out.listeners = m.listener;
  out.methods = m.method;
  out.path_prefixes = m.path_prefix;

  for (const auto& h : m.host) {
    std::string_view name = without_trailing_dot(h);
    Host host;
    host.wildcard = name.starts_with("*.");
    if (host.wildcard) name.remove_prefix(1);
    host.name.assign(name);
    std::transform(host.name.begin(), host.name.end(), host.name.begin(), ascii_lower);
    out.hosts.push_back(std::move(host));
  }

  for (const auto& s : m.source) {
    auto cidr = Cidr::parse(s);
    if (!cidr) return unexpected(error_text(rule, "source", s, "not an IP address or CIDR"));
    out.sources.push_back(*cidr);
  }

  auto paths = compile_regexes(rule, "path", m.path);
  if (!paths) return unexpected(paths.error());
  out.paths = std::move(*paths);

  auto user_agents = compile_regexes(rule, "user_agent", m.user_agent);
  if (!user_agents) return unexpected(user_agents.error());
  out.user_agents = std::move(*user_agents);

  for (const auto& [name, pattern] : m.header) {
    auto re = compile_regex(rule, "header " + name, pattern);
    if (!re) return unexpected(re.error());
    out.headers.push_back(Header{name, std::move(*re)});
  }
  return out;
}

bool CompiledRule::matches(const RequestView& req) const {
  if (!listeners.empty() && !any_equal(listeners, req.listener)) return false;
  if (!methods.empty() && !any_equal(methods, req.method)) return false;
  if (!path_prefixes.empty() &&
      std::none_of(path_prefixes.begin(), path_prefixes.end(),
                   [&](const std::string& p) { return req.path.starts_with(p); })) {
    return false;
  }
  if (!hosts.empty()) {
    std::string_view host = without_trailing_dot(req.host);
    if (std::none_of(hosts.begin(), hosts.end(),
                     [host](const Host& h) { return host_matches(h, host); })) {
      return false;
    }
  }
  if (!sources.empty() && std::none_of(sources.begin(), sources.end(),
                                       [&](const Cidr& c) { return c.contains(req.source); })) {
    return false;
  }
  if (!paths.empty() && !any_regex(paths, req.path)) return false;
  if (!user_agents.empty() &&
      !any_field_matches(req.headers, "User-Agent",
                         [this](std::string_view ua) { return any_regex(user_agents, ua); })) {
    return false;
  }
  for (const auto& h : headers) {
    auto value_matches = [&h](std::string_view v) {
      return RE2::PartialMatch(re2::StringPiece(v), *h.value);
    };
    if (!any_field_matches(req.headers, h.name, value_matches)) return false;
  }
  return true;
}

}  // namespace rules
