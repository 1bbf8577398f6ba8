// SPDX-License-Identifier: MIT
// Wakes from another thread reach the loop's thread, coalesce, and die with their waker.
#include "proxy/loop_waker.h"

#include <doctest/doctest.h>
#include <event2/event.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "proxy/event_loop.h"
#include "proxy/runtime.h"
#include "tests/proxy/test_util.h"

namespace {

struct Counter {
  std::atomic<int> calls{0};
  std::thread::id thread;
  proxy::EventLoop* loop = nullptr;
  int stop_at = -1;
};

void count(void* arg) {
  auto* c = static_cast<Counter*>(arg);
  c->thread = std::this_thread::get_id();
  if (++c->calls == c->stop_at) c->loop->request_drain();
}

// Runs one pass of the loop's due events without blocking.
void turn(proxy::EventLoop& loop) {
  event_base_loop(loop.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

}  // namespace

TEST_CASE("a wake from another thread runs the callback on the loop's thread, once per wake") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  REQUIRE(loop.setup_error().empty());
  Counter c;
  c.loop = &loop;
  constexpr int kRounds = 50;
  c.stop_at = kRounds;
  proxy::LoopWaker waker(loop, count, &c);
  REQUIRE(loop.wake_queue().ok());
  std::thread runner([&] { loop.run(); });
  const std::thread::id loop_thread = runner.get_id();
  // Each wake waits for its callback: none may be lost.
  for (int i = 0; i < kRounds; ++i) {
    waker.fill_progress();
    while (c.calls.load() <= i) std::this_thread::yield();
  }
  runner.join();
  CHECK(c.calls.load() == kRounds);
  CHECK(c.thread == loop_thread);
}

TEST_CASE("several wakes before the loop runs make one call") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  Counter a, b;
  proxy::LoopWaker wa(loop, count, &a);
  proxy::LoopWaker wb(loop, count, &b);
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      wa.fill_progress();
      wb.fill_progress();
    }
  });
  poster.join();
  turn(loop);
  CHECK(a.calls.load() == 1);
  CHECK(b.calls.load() == 1);
  turn(loop);
  CHECK(a.calls.load() == 1);  // nothing more was posted
  wa.fill_progress();
  turn(loop);
  CHECK(a.calls.load() == 2);
  CHECK(b.calls.load() == 1);
}

TEST_CASE("a waker destroyed with a wake in flight is never called") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  Counter a, b;
  auto wa = std::make_unique<proxy::LoopWaker>(loop, count, &a);
  proxy::LoopWaker wb(loop, count, &b);
  std::thread poster([&] {
    wa->fill_progress();
    wb.fill_progress();
  });
  poster.join();
  wa.reset();
  turn(loop);
  CHECK(a.calls.load() == 0);
  CHECK(b.calls.load() == 1);
}

namespace {

struct Killer {
  std::unique_ptr<proxy::LoopWaker>* victim = nullptr;
  int calls = 0;
};

void kill_other(void* arg) {
  auto* k = static_cast<Killer*>(arg);
  ++k->calls;
  k->victim->reset();
}

}  // namespace

TEST_CASE("a callback may destroy another waker whose wake is due in the same turn") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  Counter victim_calls;
  auto victim = std::make_unique<proxy::LoopWaker>(loop, count, &victim_calls);
  Killer k{&victim};
  proxy::LoopWaker killer(loop, kill_other, &k);
  killer.fill_progress();   // due first
  victim->fill_progress();  // due second, destroyed by the first
  turn(loop);
  CHECK(k.calls == 1);
  CHECK(victim_calls.calls.load() == 0);
  CHECK(victim == nullptr);
}

TEST_CASE("a waker may post again from its own callback: it runs on a later turn") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  struct Again {
    proxy::LoopWaker* self = nullptr;
    int calls = 0;
  } again;
  proxy::LoopWaker w(
      loop,
      [](void* arg) {
        auto* a = static_cast<Again*>(arg);
        if (++a->calls < 3) a->self->fill_progress();
      },
      &again);
  again.self = &w;
  w.fill_progress();
  turn(loop);
  CHECK(again.calls == 1);
  turn(loop);
  turn(loop);
  CHECK(again.calls == 3);
}

namespace {

// An object being filled on another thread, as a cache fill is.
class FillingObject final : public cache::Object {
 public:
  FillingObject() : Object(cache::CacheKey{3, 4}, cache::StoredHead{}, cache::Tier::kMemory, 1) {}
  std::string_view memory_at(uint64_t) const override { return {}; }
  int file(uint64_t&) const override { return -1; }
  void grow(uint64_t n) { publish(n); }
  void end() { finish(kComplete); }
};

}  // namespace

TEST_CASE(
    "readers subscribing, waking and going away while another thread fills never miss the end") {
  auto rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop(rt, {}, shared);
  FillingObject obj;
  Counter kept;
  proxy::LoopWaker stays(loop, count, &kept);
  REQUIRE(obj.subscribe(&stays));
  std::atomic<bool> done{false};
  std::thread filler([&] {
    for (uint64_t i = 1; i <= 2000; ++i) obj.grow(i);
    obj.end();
    done = true;
  });
  // Short-lived readers come and go on the loop's thread meanwhile (unsubscribe, then destroy:
  // the object's lock keeps fill_progress() off a waker being destroyed).
  while (!done.load()) {
    Counter c;
    auto w = std::make_unique<proxy::LoopWaker>(loop, count, &c);
    obj.subscribe(w.get());
    turn(loop);
    obj.unsubscribe(w.get());
    w.reset();
    turn(loop);
  }
  filler.join();
  // The reader that stayed has a wake due for the end (or had it already): it sees complete().
  turn(loop);
  CHECK(obj.complete());
  CHECK(kept.calls.load() >= 1);
  const int settled = kept.calls.load();
  turn(loop);
  CHECK(kept.calls.load() == settled);  // nothing more after the end
  obj.unsubscribe(&stays);
}
