// SPDX-License-Identifier: MIT
#include "proxy/offload/offload_decision.h"

#include <doctest/doctest.h>

#include <string>

using namespace proxy::offload;
using proxy::http::HeaderList;

TEST_CASE("X-Accel-Expires gives seconds, an absolute time, or 0 for not cached") {
  CHECK(parse_accel_expires("60", 1000) == 60);
  CHECK(parse_accel_expires("0", 1000) == 0);
  CHECK(parse_accel_expires("@1600", 1000) == 600);
  CHECK(parse_accel_expires("@900", 1000) == 0);  // already past
  CHECK_FALSE(parse_accel_expires("", 1000));
  CHECK_FALSE(parse_accel_expires("-5", 1000));
  CHECK_FALSE(parse_accel_expires("soon", 1000));
  CHECK_FALSE(parse_accel_expires("@", 1000));
  CHECK(parse_limit_rate("1048576") == 1048576u);
  CHECK_FALSE(parse_limit_rate("1m"));
}

TEST_CASE("an X-Accel-Redirect answer keeps the nginx set of fields and the backend's validators") {
  HeaderList f;
  f.push("Content-Type", "application/gzip");
  f.push("X-Accel-Redirect", "/tarballs/a.tar.gz?x=1");
  f.push("Content-Disposition", "attachment; filename=a.tar.gz");
  f.push("ETag", "\"app-1\"");
  f.push("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT");
  f.push("Set-Cookie", "s=1");
  f.push("X-Powered-By", "rails");
  f.push("Content-Length", "12");
  f.push("X-Accel-Limit-Rate", "1000");
  f.push("X-Accel-Expires", "30");
  f.push("X-Accel-Charset", "utf-8");
  f.push("Accept-Ranges", "bytes");
  OffloadDecision d;
  REQUIRE(d.read(f, 0));
  CHECK(d.kind == OffloadDecision::Kind::kAccel);
  CHECK(d.target == "/tarballs/a.tar.gz?x=1");
  CHECK(d.content_type == "application/gzip");
  CHECK(d.etag == "\"app-1\"");
  CHECK(d.last_modified == "Tue, 01 Dec 2026 10:00:00 GMT");
  CHECK(d.charset == "utf-8");
  CHECK(d.limit_rate == 1000);
  CHECK(d.has_expires);
  CHECK(d.expires == 30);
  REQUIRE(d.kept.size() == 3);
  CHECK(d.kept[0].name == "Content-Disposition");
  CHECK(d.kept[1].name == "Set-Cookie");
  CHECK(d.kept[2].name == "Accept-Ranges");

  SUBCASE("own() copies it all, so the backend's head may go") {
    std::string backing = "X-Sendfile";
    HeaderList g;
    g.push(backing, "/srv/files/a b");
    g.push("Cache-Control", "public, max-age=60");
    OffloadDecision e;
    REQUIRE(e.read(g, 0));
    e.own();
    backing.assign(backing.size(), '!');
    CHECK(e.kind == OffloadDecision::Kind::kSendfile);
    CHECK(e.target == "/srv/files/a b");
    CHECK(e.kept[0].value == "public, max-age=60");
    CHECK(e.target.data() >= e.storage.data());
  }
}

TEST_CASE("a response without X-Accel-Redirect or X-Sendfile is no decision") {
  HeaderList f;
  f.push("Content-Type", "text/html");
  f.push("X-Accel-Buffering", "no");
  OffloadDecision d;
  CHECK_FALSE(d.read(f, 0));
  CHECK(d.kind == OffloadDecision::Kind::kNone);
  CHECK(d.content_type.empty());
  CHECK(control_field("X-Accel-Buffering"));
  CHECK(control_field("x-sendfile"));
  CHECK_FALSE(control_field("X-Accel"));
  CHECK_FALSE(kept_field("content-length"));
}

TEST_CASE("a target splits at its first '?', the query kept as sent") {
  auto t = split_target("/tarballs/a%20b?v=1&x=%2F?");
  CHECK(t.path == "/tarballs/a%20b");
  CHECK(t.has_query);
  CHECK(t.query == "v=1&x=%2F?");
  auto u = split_target("/x");
  CHECK(u.path == "/x");
  CHECK_FALSE(u.has_query);
}
