// SPDX-License-Identifier: MIT
// A process killed (SIGKILL) while it fills the disk tier: the next start serves what it had
// committed, never the partial object, and deletes the partial object's temporary file.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "tests/cache/disk_test_util.h"

using namespace disk_test;
using gatehouse_test::TempDir;

namespace {

// Runs |work| on a disk tier in |dir| in a child process; once |work| returns true the child
// tells the parent, which kills it with SIGKILL mid-flight. False if the child failed first.
bool run_and_kill(const std::string& dir, const std::function<bool(cache::DiskStorage&)>& work) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto s = cache::DiskStorage::open(dir, 1ull << 30);
    if (!s || !work(*s.value())) ::_exit(1);
    const char c = 1;
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    for (;;) ::pause();  // the writer stays open, mid-fill, until the kill
  }
  ::close(ready[1]);
  char c = 0;
  const bool reached = ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return reached && WIFSIGNALED(status);
}

}  // namespace

TEST_CASE("a process killed mid-fill leaves no object; what it committed survives") {
  TempDir dir;
  const std::string piece(1 << 20, 'k');
  REQUIRE(run_and_kill(dir.path(), [&](cache::DiskStorage& s) {
    auto done = s.begin(key_of(1), head_with(), 1);
    if (!done || !done->append("committed", 9) || !done->commit()) return false;
    // Left open on purpose: the kill finds it mid-body (2 of its 4 MiB written).
    cache::ObjectHead h = head_with();
    h.body_size = 4 * piece.size();
    static std::unique_ptr<cache::ObjectWriter> partial;
    partial = s.begin(key_of(2), h, 1);
    return partial && partial->append(piece.data(), piece.size()) &&
           partial->append(piece.data(), piece.size());
  }));
  CHECK(temp_files(dir.path()) == 1);  // the interrupted fill's
  auto s = reopen(dir.path());
  CHECK(temp_files(dir.path()) == 0);
  auto hit = s->lookup(key_of(1), any_variant());
  REQUIRE(hit);
  CHECK(read_body(*hit) == "committed");
  CHECK_FALSE(s->lookup(key_of(2), any_variant()));
  CHECK(s->stats().objects == 1);
}

TEST_CASE("objects found at the start are evicted before those stored since") {
  TempDir dir;
  const std::string body(50000, 'o');
  {
    auto s = reopen(dir.path());
    store(*s, key_of(1), body);
    store(*s, key_of(2), body);
  }
  auto s = reopen(dir.path(), 200000);  // room for three
  store(*s, key_of(3), body);
  store(*s, key_of(4), body);
  CHECK(s->stats().evictions == 1);
  CHECK(s->lookup(key_of(3), any_variant()));
  CHECK(s->lookup(key_of(4), any_variant()));
  CHECK(static_cast<bool>(s->lookup(key_of(1), any_variant())) !=
        static_cast<bool>(s->lookup(key_of(2), any_variant())));
}
