// SPDX-License-Identifier: MIT
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/temp_dir.h"

// Lists of problems print one per line when a check fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string out = "{";
    for (const auto& s : v) out += "\n  " + s;
    return (out + "\n}").c_str();
  }
};
}  // namespace doctest

using gatehouse_test::TempDir;
