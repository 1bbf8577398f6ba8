// SPDX-License-Identifier: MIT
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "rules/cidr.h"
#include "rules/rule_set.h"

namespace rules {

// One conf::Rule's match keys in matchable form. An empty list means the key is absent and holds
// for every request; a present key holds if any of its items does.
struct CompiledRule {
  // `host` item: lower case, trailing dot removed. A wildcard (`*.example.org`) keeps
  // ".example.org" and holds for any subdomain of it, never for example.org itself.
  struct Host {
    std::string name;
    bool wildcard = false;
  };
  // One `header` entry: holds if some field with this name has a value the regex matches.
  struct Header {
    std::string name;
    std::unique_ptr<RE2> value;
  };

  // Fails with "rule NAME: KEY 'ITEM': WHY" if a regex or CIDR does not compile.
  static proxy::base::Expected<CompiledRule, std::string> compile(const conf::Rule& rule);

  // True if every present key holds for |req|. Cheap keys are tested before regexes.
  bool matches(const RequestView& req) const;

  const conf::Rule* rule = nullptr;  // the source, owned by the Config
  std::vector<std::string> listeners;
  std::vector<std::string> methods;
  std::vector<std::string> path_prefixes;
  std::vector<Host> hosts;
  std::vector<Cidr> sources;
  std::vector<std::unique_ptr<RE2>> paths;
  std::vector<std::unique_ptr<RE2>> user_agents;
  std::vector<Header> headers;  // every entry must hold
};

}  // namespace rules
