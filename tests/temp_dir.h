// SPDX-License-Identifier: MIT
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace gatehouse_test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/gatehouse-test-XXXXXX";
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
  const char* c_str() const { return path_.c_str(); }

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

}  // namespace gatehouse_test
