// SPDX-License-Identifier: MIT
// RFC 9111 4 and 4.2.4 (and RFC 5861): using a stored response, fresh or stale.
#include <doctest/doctest.h>

#include "cache/policy.h"
#include "tests/cache/messages.h"

using namespace cache;
using namespace cache::test;

namespace {

// Stored at kNow, received with age 0, fresh for |lifetime| seconds.
Freshness stored(int64_t lifetime) {
  Freshness f;
  f.response_time = kNow;
  f.lifetime = lifetime;
  return f;
}

Reuse reuse(const Freshness& f, UnixTime now, Fields request = {}) {
  Req req(request);
  return decide_reuse(f, req.head, now);
}

}  // namespace

TEST_CASE("RFC 9111 4.2: a response is fresh while its age is below its lifetime") {
  const Freshness f = stored(100);
  CHECK(reuse(f, kNow) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 99) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 100) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 4.2.3: the current age adds the resident time to the initial age") {
  Freshness f = stored(100);
  f.corrected_initial_age = 60;
  CHECK(current_age(f, kNow) == 60);
  CHECK(current_age(f, kNow + 30) == 90);
  CHECK(reuse(f, kNow + 39) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 40) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 4.2: a lifetime of zero or less is stale at once") {
  CHECK(reuse(stored(0), kNow) == Reuse::kRevalidate);
  CHECK(reuse(stored(-100), kNow) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.2.2.4: a no-cache response is revalidated on every use") {
  Freshness f = stored(3600);
  f.no_cache = true;
  CHECK(reuse(f, kNow) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.2.1.4: a request's no-cache forces revalidation") {
  CHECK(reuse(stored(3600), kNow, {{"Cache-Control", "no-cache"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.4: Pragma: no-cache counts only when there is no Cache-Control") {
  CHECK(reuse(stored(3600), kNow, {{"Pragma", "no-cache"}}) == Reuse::kRevalidate);
  CHECK(reuse(stored(3600), kNow, {{"Pragma", "no-cache"}, {"Cache-Control", "max-age=3600"}}) ==
        Reuse::kFresh);
  CHECK(reuse(stored(3600), kNow, {{"Pragma", "foo"}}) == Reuse::kFresh);
}

TEST_CASE("RFC 9111 5.2.1.1: a request's max-age rejects an older response") {
  const Freshness f = stored(3600);
  CHECK(reuse(f, kNow + 10, {{"Cache-Control", "max-age=20"}}) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 30, {{"Cache-Control", "max-age=20"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.2.1.1: a request's max-age=0 asks for validation") {
  CHECK(reuse(stored(3600), kNow, {{"Cache-Control", "max-age=0"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.2.1.3: min-fresh needs that much freshness left") {
  const Freshness f = stored(100);
  CHECK(reuse(f, kNow + 50, {{"Cache-Control", "min-fresh=40"}}) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 70, {{"Cache-Control", "min-fresh=40"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 9111 5.2.1.2: max-stale lets a stale response be served") {
  const Freshness f = stored(100);
  CHECK(reuse(f, kNow + 150, {{"Cache-Control", "max-stale=60"}}) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 170, {{"Cache-Control", "max-stale=60"}}) == Reuse::kRevalidate);
  CHECK(reuse(f, kNow + 100000, {{"Cache-Control", "max-stale"}}) == Reuse::kFresh);
}

TEST_CASE("RFC 9111 5.2.2.2: must-revalidate overrides a request's max-stale") {
  Freshness f = stored(100);
  f.must_revalidate = true;
  CHECK(reuse(f, kNow + 150, {{"Cache-Control", "max-stale=60"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 5861 3: within stale-while-revalidate, serve stale and refresh") {
  Freshness f = stored(100);
  f.stale_while_revalidate = 30;
  CHECK(reuse(f, kNow + 50) == Reuse::kFresh);
  CHECK(reuse(f, kNow + 100) == Reuse::kStaleWhileRevalidate);
  CHECK(reuse(f, kNow + 130) == Reuse::kStaleWhileRevalidate);
  CHECK(reuse(f, kNow + 131) == Reuse::kRevalidate);
}

TEST_CASE("RFC 5861 3: a client's no-cache or max-age=0 is not answered stale") {
  Freshness f = stored(100);
  f.stale_while_revalidate = 30;
  CHECK(reuse(f, kNow + 110, {{"Cache-Control", "no-cache"}}) == Reuse::kRevalidate);
  CHECK(reuse(f, kNow + 110, {{"Cache-Control", "max-age=0"}}) == Reuse::kRevalidate);
  CHECK(reuse(f, kNow + 110, {{"Cache-Control", "min-fresh=1"}}) == Reuse::kRevalidate);
}

TEST_CASE("RFC 5861 4: stale-if-error serves a stale response when the backend fails") {
  Freshness f = stored(100);
  f.stale_if_error = 60;
  Req req;
  CHECK(may_serve_stale_on_error(f, req.head, kNow + 50));
  CHECK(may_serve_stale_on_error(f, req.head, kNow + 160));
  CHECK_FALSE(may_serve_stale_on_error(f, req.head, kNow + 161));
}

TEST_CASE("RFC 5861 4: without stale-if-error a stale response is not served on error") {
  const Freshness f = stored(100);
  Req req;
  CHECK(may_serve_stale_on_error(f, req.head, kNow + 10));  // still fresh
  CHECK_FALSE(may_serve_stale_on_error(f, req.head, kNow + 101));
}

TEST_CASE("RFC 5861 4: a request's stale-if-error extends the window") {
  Freshness f = stored(100);
  Req req({{"Cache-Control", "stale-if-error=600"}});
  CHECK(may_serve_stale_on_error(f, req.head, kNow + 500));
  f.must_revalidate = true;
  CHECK_FALSE(may_serve_stale_on_error(f, req.head, kNow + 500));
}

TEST_CASE("RFC 9111 5.2.2.4: a no-cache response is never served on error unvalidated") {
  Freshness f = stored(100);
  f.no_cache = true;
  f.stale_if_error = 100;
  Req req;
  CHECK_FALSE(may_serve_stale_on_error(f, req.head, kNow));
}
