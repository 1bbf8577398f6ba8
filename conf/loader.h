// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace conf {

// The outcome of loading: a config when no error (warnings allowed) was found, and every problem
// found, in file order. The loader keeps going after an error so `gatehouse check` lists them all.
struct LoadResult {
  std::shared_ptr<const Config> config;  // null when any error (not warning) was found
  std::vector<ConfigError> problems;
};

// |text| non-null: gets the file's contents (what a reload sends the worker).
LoadResult load_file(const std::string& path, std::string* text = nullptr);
// `name` stands for the file in messages. |check_files| false: the files the config names (the
// certificates) are not looked at; for a worker parsing a text the main process checked.
LoadResult load_string(std::string_view yaml, const std::string& name, bool check_files = true);

// FILE:LINE:COLUMN: error: MESSAGE
std::string format_problem(const ConfigError& e);

}  // namespace conf
