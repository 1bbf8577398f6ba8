// SPDX-License-Identifier: MIT
// Helpers for the proxy unit tests: a private temporary directory, a hand-made config made ready
// to serve, and a look at which descriptors of this process point where.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/runtime.h"
#include "tests/temp_dir.h"

namespace proxy::test {

using gatehouse_test::TempDir;

// The targets of this process's open descriptors ("socket:[123]", "/tmp/x/#45 (deleted)").
inline std::vector<std::string> open_fd_targets() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec) out.push_back(target.string());
  }
  return out;
}

// Sizes of the open files inside `dir` (an unlinked temporary file stays reachable through
// /proc/self/fd), one per open descriptor.
// Sizes of the files this process has open under `dir`: apparent sizes, or with `on_disk` the
// bytes really allocated (a file with holes punched is smaller on disk than it looks).
inline std::vector<uint64_t> open_file_sizes_in(const std::string& dir, bool on_disk = false) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (ec || target.string().rfind(dir + "/", 0) != 0) continue;
    struct stat st;
    if (::stat(e.path().c_str(), &st) == 0)
      out.push_back(on_disk ? static_cast<uint64_t>(st.st_blocks) * 512
                            : static_cast<uint64_t>(st.st_size));
  }
  return out;
}

// A config with one pool per entry of `pools` (servers on 127.0.0.1 at the given ports and
// weights); nothing ever connects to them.
struct PoolSpec {
  std::string name;
  std::vector<std::pair<int, int>> port_weight;
};

inline std::shared_ptr<const Runtime> make_runtime(const std::vector<PoolSpec>& pools) {
  auto config = std::make_shared<conf::Config>();
  config->source = "test.yaml";
  config->listeners.push_back(conf::Listener{"web", "127.0.0.1:0", false, {}, {}, 1});
  for (const auto& p : pools) {
    conf::Pool pool;
    pool.name = p.name;
    for (auto [port, weight] : p.port_weight)
      pool.servers.push_back(conf::Server{"127.0.0.1:" + std::to_string(port), weight});
    config->pools.push_back(std::move(pool));
  }
  auto rt = Runtime::build(std::move(config));
  if (!rt) throw std::runtime_error("Runtime::build: " + rt.error());
  return *rt;
}

}  // namespace proxy::test
