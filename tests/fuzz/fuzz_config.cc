// SPDX-License-Identifier: MIT
// libFuzzer target for the config loader: any bytes give a config or at least one error, never a
// crash nor an escaping exception, and every problem points at a real place of the input.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "conf/loader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Longer inputs reach nothing a shorter one cannot and slow the search. They also bound the
// nesting of flow collections ("[[[[..."), which yaml-cpp parses by recursion; yaml-cpp 0.7 also
// stops at its own depth guard (reported as "bad file").
constexpr size_t kMaxInput = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return -1;  // not added to the corpus
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const conf::LoadResult r = conf::load_string(in, "fuzz.yaml");

  // The input's shape: problems point at one of its lines, or just past its end.
  const int lines = static_cast<int>(std::count(in.begin(), in.end(), '\n')) + 1;

  bool any_error = false;
  const conf::ConfigError* prev = nullptr;
  for (const conf::ConfigError& p : r.problems) {
    any_error = any_error || !p.warning;
    FUZZ_CHECK(p.file == "fuzz.yaml");
    FUZZ_CHECK(p.line >= 1 && p.column >= 1);
    FUZZ_CHECK(p.line <= lines + 1);
    FUZZ_CHECK(!p.message.empty());
    const std::string text = conf::format_problem(p);
    FUZZ_CHECK(text.rfind("fuzz.yaml:", 0) == 0);
    // In file order.
    if (prev) FUZZ_CHECK(std::tie(prev->line, prev->column) <= std::tie(p.line, p.column));
    prev = &p;
  }
  // A config exactly when nothing but warnings was found.
  FUZZ_CHECK((r.config != nullptr) == !any_error);

  if (r.config) {
    // What the loader promises its consumers, who never re-check.
    const conf::Config& c = *r.config;
    FUZZ_CHECK(c.source == "fuzz.yaml");
    FUZZ_CHECK(!c.listeners.empty());
    for (const auto& l : c.listeners) FUZZ_CHECK(!l.name.empty() && !l.address.empty());
    for (const auto& rule : c.rules)
      FUZZ_CHECK(rule.pool.empty() || c.find_pool(rule.pool) != nullptr);
    for (const auto& p : c.pools) {
      FUZZ_CHECK(!p.name.empty());
      for (const auto& s : p.servers) FUZZ_CHECK(!s.address.empty() && s.weight >= 1);
    }
  }
  return 0;
}
