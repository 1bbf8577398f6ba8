// SPDX-License-Identifier: MIT
#include "proxy/offload/file_reaper.h"

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "proxy/base/log.h"

namespace proxy::offload {
namespace {

constexpr uint64_t kInlineRemove = 4 << 20;

void unlink_logged(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    LOG_WARN("cannot remove %s: %m", path.c_str());
}

class Reaper {
 public:
  ~Reaper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  void add(std::string path) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(path));
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    cv_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      std::string path = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      unlink_logged(path);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

void remove_file(std::string_view path, uint64_t size) {
  if (size < kInlineRemove) {
    unlink_logged(std::string(path));
    return;
  }
  static Reaper reaper;
  reaper.add(std::string(path));
}

}  // namespace proxy::offload
