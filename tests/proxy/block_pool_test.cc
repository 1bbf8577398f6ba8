// SPDX-License-Identifier: MIT
#include "proxy/block_pool.h"

#include <doctest/doctest.h>

namespace {

int g_live = 0;

struct CountedTraits {
  using Item = int;
  int* create() const {
    ++g_live;
    return new int(0);
  }
  void destroy(int* i) const {
    --g_live;
    delete i;
  }
};

}  // namespace

TEST_CASE("a burst's spares are freed once a whole interval has not needed them") {
  g_live = 0;
  {
    proxy::Recycler<CountedTraits> pool;
    int* items[300];
    for (auto& i : items) i = pool.acquire();
    for (auto& i : items) pool.release(i);
    CHECK(g_live == 300);
    // The interval the burst happened in still counts its peak: nothing is freed yet.
    CHECK(pool.trim() == 0);
    CHECK(g_live == 300);
    // The next interval needed none of them.
    CHECK(pool.trim() == 300);
    CHECK(g_live == 0);
  }
}

TEST_CASE("steady use keeps what it needs and allocates nothing more") {
  g_live = 0;
  proxy::Recycler<CountedTraits> pool;
  for (int round = 0; round < 5; ++round) {
    int* a = pool.acquire();
    int* b = pool.acquire();
    pool.release(a);
    pool.release(b);
    pool.trim();
    CHECK(g_live == 2);
  }
  int* held = pool.acquire();
  pool.release(pool.acquire());
  CHECK(pool.trim() == 0);  // 1 in use, peak 2 in this interval: one spare kept
  CHECK(g_live == 2);
  CHECK(pool.trim() == 1);  // the next interval needed only the one held
  CHECK(g_live == 1);
  pool.release(held);
}
