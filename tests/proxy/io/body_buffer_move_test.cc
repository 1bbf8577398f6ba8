// SPDX-License-Identifier: MIT
// BodyBuffer::move_to: the HTTP/2 path takes body bytes into its own output, in FIFO order.
#include <doctest/doctest.h>
#include <event2/buffer.h>

#include <random>
#include <string>

#include "proxy/base/event_handles.h"
#include "proxy/io/body_buffer.h"
#include "tests/proxy/test_util.h"

using proxy::base::EvbufferPtr;
using proxy::io::BodyBuffer;
using proxy::test::open_file_sizes_in;
using proxy::test::TempDir;

namespace {

std::string take_all(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  evbuffer_remove(b, s.data(), s.size());
  return s;
}

std::string pattern(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("move_to hands over memory bytes in order, at most max at a time") {
  BodyBuffer b;
  const std::string data = pattern(100000, 1);
  REQUIRE(b.append(data));
  EvbufferPtr dst(evbuffer_new());
  std::string got;
  while (!b.empty()) {
    ssize_t n = b.move_to(dst.get(), 16384);
    REQUIRE(n > 0);
    CHECK(n <= 16384);
    got += take_all(dst.get());
  }
  CHECK(got == data);
  CHECK(b.move_to(dst.get(), 100) == 0);
}

TEST_CASE("move_to reads the spilled part from the file, after the memory part") {
  TempDir dir;
  BodyBuffer b;
  b.configure(10000, 1 << 20, dir.path().c_str());
  const std::string data = pattern(300000, 2);
  REQUIRE(b.append(data.substr(0, 150000)));
  REQUIRE(b.file_size() > 0);
  EvbufferPtr dst(evbuffer_new());
  std::string got;
  // Interleave producing and consuming, as a backend and a client would.
  size_t appended = 150000;
  while (!b.empty() || appended < data.size()) {
    if (appended < data.size()) {
      const size_t n = std::min<size_t>(7000, data.size() - appended);
      REQUIRE(b.append(data.substr(appended, n)));
      appended += n;
    }
    ssize_t n = b.move_to(dst.get(), 16384);
    REQUIRE(n >= 0);
    got += take_all(dst.get());
  }
  CHECK(got.size() == data.size());
  CHECK(got == data);
  // Drained: the file went back to empty rather than holding the whole body.
  for (uint64_t size : open_file_sizes_in(dir.path())) CHECK(size == 0);
}

TEST_CASE("bodies sharing a FileBudget spill together at most its limit") {
  TempDir dir;
  proxy::io::FileBudget budget{.limit = 1000};
  BodyBuffer a;
  BodyBuffer b;
  a.configure(100, 800, dir.path().c_str());
  b.configure(100, 800, dir.path().c_str());
  a.share_file_budget(&budget);
  b.share_file_budget(&budget);
  CHECK(a.room() == 900);                    // its own file_limit is the smaller bound
  REQUIRE(a.append(std::string(700, 'a')));  // 100 in memory, 600 in the file
  CHECK(budget.used == 600);
  CHECK(b.room() == 100 + 400);  // what the connection has left, not its own 800
  REQUIRE(b.append(std::string(500, 'b')));
  CHECK(budget.used == 1000);
  CHECK(a.room() == 0);
  CHECK(b.room() == 0);

  SUBCASE("bytes taken from one file give room to the other") {
    EvbufferPtr dst(evbuffer_new());
    REQUIRE(a.move_to(dst.get(), 400) == 400);  // 100 from memory, 300 from the file
    CHECK(budget.used == 700);
    CHECK(b.room() == 300);
  }
  SUBCASE("reset gives its share back and leaves the budget") {
    a.reset();
    CHECK(budget.used == 400);
    CHECK(b.room() == 400);  // now its own file_limit (800 - 400) is the bound again
    REQUIRE(a.append(std::string(2000, 'c')));  // no budget any more: file_limit is not used
    CHECK(budget.used == 400);
  }
}
