// SPDX-License-Identifier: MIT
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

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

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/gatehouse-conf-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes |content| to |name| inside the directory and returns its full path.
  std::string write(const std::string& name, const std::string& content) const {
    std::string full = path_ + "/" + name;
    std::FILE* f = std::fopen(full.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + full);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    return full;
  }

 private:
  std::string path_;
};
