// SPDX-License-Identifier: MIT
// An event loop that cannot get the file descriptors it needs says so instead of crashing or
// taking the process down (libevent exits when its base gets an epoll fd but no signal pipe).
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "proxy/event_loop.h"
#include "proxy/runtime.h"
#include "tests/proxy/test_util.h"

namespace {

// The lowest fd number not in use now.
int lowest_free_fd() {
  int fd = ::dup(0);
  REQUIRE(fd >= 0);
  ::close(fd);
  return fd;
}

}  // namespace

TEST_CASE("an event loop out of file descriptors reports EMFILE, at every point it can run out") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  rlimit saved;
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int first = lowest_free_fd();
  int failed = 0, ok = 0;
  // Room for 0 to 7 more fds: a loop needs 5 (two eventfds, the base's epoll fd and pipe).
  for (int room = 0; room < 8; ++room) {
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(first + room);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    auto loop = std::make_unique<proxy::EventLoop>(rt, std::vector<proxy::ListenerRef>{}, shared);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (loop->setup_error().empty()) {
      ++ok;
      CHECK(loop->base() != nullptr);
    } else {
      ++failed;
      CHECK(loop->setup_error() == std::strerror(EMFILE));
    }
    loop.reset();
    CHECK(lowest_free_fd() == first);  // what it got is given back
  }
  CHECK(failed >= 5);
  CHECK(ok >= 1);
}
