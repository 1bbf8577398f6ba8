// SPDX-License-Identifier: MIT
// A reply's body from a stored object: every byte of the plan in order, from memory or disk,
// following a fill as it streams in, with backpressure, and cut when the fill aborts.
#include "proxy/cache_body.h"

#include <doctest/doctest.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "proxy/downstream/downstream.h"
#include "proxy/event_loop.h"
#include "proxy/exchange.h"
#include "proxy/runtime.h"
#include "tests/proxy/test_util.h"

using proxy::CacheBody;
using proxy::CacheReply;

namespace {

// A stored object the test fills by hand: memory (served in runs of |run| bytes, as a chain of
// blocks would be) or disk (a temporary file).
class TestObject final : public cache::Object {
 public:
  TestObject(std::string body, bool disk, size_t run = 1 << 30)
      : Object(cache::CacheKey{1, 2}, cache::StoredHead{},
               disk ? cache::Tier::kDisk : cache::Tier::kMemory, 1),
        body_(std::move(body)),
        run_(run) {
    if (disk) {
      char path[] = "/tmp/cache_body_testXXXXXX";
      fd_ = mkstemp(path);
      REQUIRE(fd_ >= 0);
      unlink(path);
      const std::string pad(7, 'P');  // body byte 0 is not file byte 0
      REQUIRE(::write(fd_, pad.data(), pad.size()) == 7);
      REQUIRE(::write(fd_, body_.data(), body_.size()) == static_cast<ssize_t>(body_.size()));
      // The fd stays open while a body buffer still sends from it, as a disk object's does.
      fd_owner_ = std::shared_ptr<const int>(new int(fd_), [](const int* fd) {
        ::close(*fd);
        delete fd;
      });
    }
  }
  ~TestObject() override {
    if (on_destroy) *on_destroy = true;
  }
  std::shared_ptr<const void> file_owner() const override { return fd_owner_; }
  std::string_view memory_at(uint64_t offset) const override {
    if (fd_ >= 0 || offset >= available()) return {};
    const uint64_t n = std::min<uint64_t>(available() - offset, run_);
    return std::string_view(body_).substr(offset, n);
  }
  int file(uint64_t& body_offset) const override {
    body_offset = 7;
    return fd_;
  }
  void grow(uint64_t to) { publish(to); }
  void complete_now() { finish(kComplete); }
  void abort_now() { finish(kAborted); }
  bool* on_destroy = nullptr;  // set true when the object is deleted

 private:
  std::string body_;
  size_t run_;
  int fd_ = -1;
  std::shared_ptr<const int> fd_owner_;
};

struct FakeDownstream final : proxy::Downstream {
  void read_body() override {}
  void body_taken() override {}
  void output_ready() override { ++ready; }
  void upgrade(proxy::io::Transport&&, std::string_view) override {}
  const sockaddr* peer() const override { return nullptr; }
  const proxy::ListenerRef& listener() const override { return ref; }
  bool tls() const override { return false; }
  int ready = 0;
  proxy::ListenerRef ref;
};

struct Rig {
  std::shared_ptr<const proxy::Runtime> rt = proxy::test::make_runtime({{"app", {{9001, 1}}}});
  proxy::WorkerShared shared;
  proxy::EventLoop loop{rt, {}, shared};
  FakeDownstream down;
  std::unique_ptr<proxy::Exchange> ex = std::make_unique<proxy::Exchange>();
  Rig() {
    ex->loop = &loop;
    ex->downstream = &down;
  }
  // Takes up to |max| bytes out of ex.out as a client would, then tells the producer.
  std::string take(size_t max = SIZE_MAX) {
    base_evbuffer dst(evbuffer_new());
    std::string got;
    while (got.size() < max && !ex->out.empty()) {
      const ssize_t n = ex->out.move_to(dst.get(), std::min<size_t>(max - got.size(), 65536));
      REQUIRE(n >= 0);
      if (n == 0) break;
      const size_t len = evbuffer_get_length(dst.get());
      std::string part(len, '\0');
      evbuffer_remove(dst.get(), part.data(), len);
      got += part;
    }
    if (ex->producer) ex->producer->output_drained();
    return got;
  }
  std::string take_all() {
    std::string all;
    for (int i = 0; i < 100000 && !ex->out.empty(); ++i) all += take();
    return all;
  }
  void turn() { event_base_loop(loop.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK); }
  struct Free {
    void operator()(evbuffer* b) const { evbuffer_free(b); }
  };
  using base_evbuffer = std::unique_ptr<evbuffer, Free>;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

CacheReply full_plan(uint64_t size) {
  CacheReply r;
  r.content_length = size;
  r.segments[0] = proxy::ReplySegment{false, 0, size};
  r.segment_count = size ? 1 : 0;
  return r;
}

}  // namespace

TEST_CASE("a complete object's whole body is sent, from memory and from disk") {
  const std::string body = pattern(1 << 20);
  for (bool disk : {false, true}) {
    CAPTURE(disk);
    Rig rig;
    auto obj = cache::make_ref<TestObject>(body, disk, 100000);
    obj->grow(body.size());
    obj->complete_now();
    CacheBody cb(*rig.ex, obj, full_plan(body.size()));
    CHECK(rig.ex->producer == &cb);
    cb.start();
    CHECK(rig.down.ready >= 1);
    CHECK(rig.ex->out.memory_size() <= CacheBody::kReferenceWindow);  // backpressure
    const std::string got = rig.take_all();
    CHECK(got.size() == body.size());
    CHECK(got == body);
    CHECK(cb.done());
    CHECK(rig.ex->upstream_done);
    CHECK_FALSE(rig.ex->aborted);
    CHECK(rig.ex->producer == nullptr);
  }
}

TEST_CASE("the object outlives the CacheBody while ex.out still references its memory") {
  const std::string body = pattern(64 * 1024);
  Rig rig;
  auto obj = cache::make_ref<TestObject>(body, false);
  obj->grow(body.size());
  obj->complete_now();
  bool gone = false;
  obj->on_destroy = &gone;
  {
    auto cb = std::make_unique<CacheBody>(*rig.ex, obj, full_plan(body.size()));
    cb->start();
    obj.reset();
    cb.reset();
  }
  CHECK_FALSE(gone);  // ex.out holds it by reference
  CHECK(rig.take_all() == body);
  rig.ex->out.reset();
  CHECK(gone);
}

TEST_CASE("a multipart plan's literals and ranges come out in order") {
  const std::string body = pattern(50000);
  for (bool disk : {false, true}) {
    CAPTURE(disk);
    Rig rig;
    auto obj = cache::make_ref<TestObject>(body, disk);
    obj->grow(body.size());
    obj->complete_now();
    CacheReply r;
    r.literal =
        "[one]"
        "[two]"
        "[end]";
    r.segments[0] = {true, 0, 5};
    r.segments[1] = {false, 10, 20000};
    r.segments[2] = {true, 5, 5};
    r.segments[3] = {false, 40000, 10};
    r.segments[4] = {true, 10, 5};
    r.segment_count = 5;
    CacheBody cb(*rig.ex, obj, std::move(r));
    cb.start();
    CHECK(rig.take_all() ==
          "[one]" + body.substr(10, 20000) + "[two]" + body.substr(40000, 10) + "[end]");
    CHECK(cb.done());
  }
}

TEST_CASE(
    "a body is chunked for HTTP/1.1 when ex.chunked_out is set, and ends with the last chunk") {
  Rig rig;
  rig.ex->chunked_out = true;
  auto obj = cache::make_ref<TestObject>("hello", false);
  obj->grow(5);
  obj->complete_now();
  CacheReply r = full_plan(proxy::kUnknownSize);
  r.segment_count = 1;
  CacheBody cb(*rig.ex, obj, std::move(r));
  cb.start();
  CHECK(rig.take_all() == "5\r\nhello\r\n0\r\n\r\n");
}

TEST_CASE("a HEAD reply and an empty body are done at once") {
  Rig rig;
  auto obj = cache::make_ref<TestObject>("abc", false);
  obj->grow(3);
  obj->complete_now();
  CacheReply r = full_plan(3);
  r.head_only = true;
  CacheBody cb(*rig.ex, obj, std::move(r));
  cb.start();
  CHECK(cb.done());
  CHECK(rig.ex->out.empty());
  CHECK(rig.ex->upstream_done);
  CHECK(rig.down.ready == 1);
}

TEST_CASE(
    "a reader follows a fill: sends what is there, waits, goes on when the filler publishes") {
  const std::string body = pattern(300000);
  for (bool disk : {false, true}) {
    CAPTURE(disk);
    Rig rig;
    auto obj = cache::make_ref<TestObject>(body, disk);
    obj->grow(1000);
    CacheBody cb(*rig.ex, obj, full_plan(body.size()));
    cb.start();
    std::string got = rig.take_all();
    CHECK(got == body.substr(0, 1000));
    CHECK_FALSE(cb.done());
    // Another thread publishes (as a fill on another loop would); the wake runs here.
    std::thread filler([&] { obj->grow(200000); });
    filler.join();
    rig.turn();
    got += rig.take_all();
    CHECK(got == body.substr(0, 200000));
    std::thread rest([&] {
      obj->grow(body.size());
      obj->complete_now();
    });
    rest.join();
    rig.turn();
    got += rig.take_all();
    CHECK(got == body);
    CHECK(cb.done());
    CHECK_FALSE(rig.ex->aborted);
  }
}

TEST_CASE("an open-ended plan follows a fill of unknown size to its end") {
  Rig rig;
  auto obj = cache::make_ref<TestObject>("0123456789", false);
  obj->grow(4);
  CacheReply r = full_plan(proxy::kUnknownSize);
  CacheBody cb(*rig.ex, obj, std::move(r));
  cb.start();
  CHECK(rig.take_all() == "0123");
  obj->grow(10);
  obj->complete_now();
  rig.turn();
  CHECK(rig.take_all() == "456789");
  CHECK(cb.done());
  CHECK_FALSE(rig.ex->aborted);
}

TEST_CASE("a fill that aborts cuts the reply") {
  Rig rig;
  auto obj = cache::make_ref<TestObject>(pattern(10000), false);
  obj->grow(100);
  CacheBody cb(*rig.ex, obj, full_plan(10000));
  cb.start();
  CHECK(rig.take_all().size() == 100);
  obj->abort_now();
  rig.turn();
  CHECK(cb.done());
  CHECK(rig.ex->aborted);
  CHECK(rig.ex->upstream_done);
}

TEST_CASE("an object that completes shorter than planned cuts the reply rather than pad it") {
  Rig rig;
  auto obj = cache::make_ref<TestObject>("abc", false);
  obj->grow(3);
  obj->complete_now();
  CacheBody cb(*rig.ex, obj, full_plan(10));
  cb.start();
  CHECK(rig.take_all() == "abc");
  CHECK(rig.ex->aborted);
}

TEST_CASE("an abandoned body stops following the fill and touches the exchange no more") {
  Rig rig;
  auto obj = cache::make_ref<TestObject>(pattern(1000), false);
  obj->grow(10);
  auto cb = std::make_unique<CacheBody>(*rig.ex, obj, full_plan(1000));
  cb->start();
  rig.take_all();
  rig.ex->drop_producer();
  CHECK(rig.ex->producer == nullptr);
  obj->grow(1000);  // no listener left: nothing is woken
  rig.turn();
  CHECK(rig.ex->out.empty());
  CHECK_FALSE(rig.ex->upstream_done);
  cb.reset();
}
