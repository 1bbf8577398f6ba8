// SPDX-License-Identifier: MIT
#include "proxy/worker_ready.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace proxy {
namespace {

constexpr std::string_view kReady = "ready\n";

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

bool ReadyPipe::open(ReadyPipe& out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  out.read.reset(fds[0]);
  out.write.reset(fds[1]);
  return true;
}

void report_ready(base::UniqueFd& fd) {
  if (fd) write_all(fd.get(), kReady);
  fd.reset();
}

void report_cannot_start(base::UniqueFd& fd, std::string_view reason) {
  if (fd) write_all(fd.get(), reason.empty() ? std::string_view("cannot start") : reason);
  fd.reset();
}

std::string wait_ready(base::UniqueFd& fd, pid_t pid, std::chrono::milliseconds bound) {
  std::string got;
  const int64_t deadline = now_ms() + bound.count();
  std::string reason;
  for (;;) {
    const int64_t left = deadline - now_ms();
    if (left <= 0) {
      reason = "did not report ready within " + std::to_string(bound.count() / 1000) + "s";
      break;
    }
    pollfd p{fd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      if (got.size() < 4096) got.append(buf, static_cast<size_t>(n));
      if (got == kReady) break;
      continue;
    }
    // End of file: the worker reported and closed, or exited.
    reason = got.empty() ? "exited before it was ready" : got;
    break;
  }
  fd.reset();
  if (got == kReady) return {};
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return reason;
}

}  // namespace proxy
