// SPDX-License-Identifier: MIT
#include "rules/rule_set.h"

#include <vector>

#include "rules/compiled_rule.h"

namespace rules {

struct RuleSet::Compiled {
  std::vector<CompiledRule> rules;  // in config order
};

RuleSet::RuleSet() : impl_(std::make_unique<Compiled>()) {}
RuleSet::~RuleSet() = default;

proxy::base::Expected<std::unique_ptr<RuleSet>, std::string> RuleSet::compile(
    const conf::Config& config) {
  std::unique_ptr<RuleSet> set(new RuleSet());
  set->impl_->rules.reserve(config.rules.size());
  for (const auto& rule : config.rules) {
    auto compiled = CompiledRule::compile(rule);
    if (!compiled) return proxy::base::unexpected(compiled.error());
    set->impl_->rules.push_back(std::move(*compiled));
  }
  return set;
}

const conf::Rule* RuleSet::match(const RequestView& req) const {
  for (const auto& rule : impl_->rules)
    if (rule.matches(req)) return rule.rule;
  return nullptr;
}

}  // namespace rules
