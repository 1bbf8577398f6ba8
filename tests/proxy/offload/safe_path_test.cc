// SPDX-License-Identifier: MIT
// normalize_target and open_beneath: no request shape names a file outside the root.
#include "proxy/offload/safe_path.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "proxy/offload/file_roots.h"
#include "tests/temp_dir.h"

using proxy::offload::FileRoots;
using proxy::offload::normalize_target;
using proxy::offload::open_beneath;
using proxy::offload::open_beneath_walk;
using proxy::offload::OpenedFile;
using proxy::offload::OpenStatus;

namespace {

std::string norm(std::string_view raw) {
  std::string out;
  const char* why = "";
  if (!normalize_target(raw, out, why)) return std::string("REFUSED: ") + why;
  return out;
}

bool refused(std::string_view raw) {
  return norm(raw).rfind("REFUSED", 0) == 0;
}

}  // namespace

TEST_CASE("normalize_target decodes once and collapses empty and dot segments") {
  CHECK(norm("/assets/app.css") == "assets/app.css");
  CHECK(norm("assets/app.css") == "assets/app.css");
  CHECK(norm("//assets///app.css") == "assets/app.css");
  CHECK(norm("/./assets/./app.css") == "assets/app.css");
  CHECK(norm("/a/b/../c") == "a/c");
  CHECK(norm("/a/%2e%2e/c") == "c");
  CHECK(norm("/a%20b.txt") == "a b.txt");
  CHECK(norm("/%2541") == "%41");  // once: %25 is '%', the rest is a name
  CHECK(norm("/dir/") == "dir/");  // a directory stays recognizable
  CHECK(norm("/a/..") == "");
  CHECK(norm("/") == "");
}

TEST_CASE("normalize_target refuses what could leave the root or hide a name") {
  SUBCASE("dot-dot above the root") {
    CHECK(refused("/.."));
    CHECK(refused("/../etc/passwd"));
    CHECK(refused("/a/../../etc"));
    CHECK(refused("/%2e%2e/etc"));
    CHECK(refused("/%2E%2e/x"));
  }
  SUBCASE("encoded slash") {
    CHECK(refused("/a%2fb"));
    CHECK(refused("/..%2F..%2Fetc"));
  }
  SUBCASE("NUL and backslash") {
    CHECK(refused("/a%00.txt"));
    CHECK(refused(std::string_view("/a\0b", 4)));
    CHECK(refused("/a\\b"));
    CHECK(refused("/..%5c..%5cetc"));
  }
  SUBCASE("invalid escapes") {
    CHECK(refused("/a%2"));
    CHECK(refused("/a%zz"));
    CHECK(refused("/a%"));
  }
}

TEST_CASE("open_beneath serves regular files only and never leaves the root") {
  gatehouse_test::TempDir tmp;
  const std::string root = tmp.path() + "/root";
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/sub").c_str(), 0755) == 0);
  tmp.write("root/sub/file.txt", "hello");
  tmp.write("secret", "outside");
  REQUIRE(::symlink((tmp.path() + "/secret").c_str(), (root + "/abs-out").c_str()) == 0);
  REQUIRE(::symlink("../secret", (root + "/rel-out").c_str()) == 0);
  REQUIRE(::symlink("sub/file.txt", (root + "/in").c_str()) == 0);
  REQUIRE(::symlink("/proc/self/root/etc/passwd", (root + "/magic").c_str()) == 0);
  REQUIRE(::mkfifo((root + "/fifo").c_str(), 0644) == 0);
  FileRoots roots;
  REQUIRE(roots.add(root));
  REQUIRE(roots.add(root + "/"));  // the same root
  CHECK(roots.size() == 1);
  const int fd = roots.fd(root + "/");
  REQUIRE(fd >= 0);
  CHECK(roots.fd("/nowhere") == -1);

  for (auto open : {&open_beneath, &open_beneath_walk}) {
    CAPTURE(open == &open_beneath ? "openat2" : "walk");
    OpenedFile f;
    CHECK(open(fd, "sub/file.txt", f).status == OpenStatus::kOk);
    CHECK(f.size == 5);
    CHECK(f.fd.get() >= 0);
    OpenedFile g;
    CHECK(open(fd, "missing", g).status == OpenStatus::kNotFound);
    CHECK(open(fd, "sub/missing/x", g).status == OpenStatus::kNotFound);
    CHECK(open(fd, "abs-out", g).status == OpenStatus::kRefused);
    CHECK(open(fd, "rel-out", g).status == OpenStatus::kRefused);
    CHECK(open(fd, "magic", g).status == OpenStatus::kRefused);
    CHECK(open(fd, "sub", g).status == OpenStatus::kRefused);
    CHECK(open(fd, "sub/", g).status == OpenStatus::kRefused);
    CHECK(open(fd, "fifo", g).status == OpenStatus::kRefused);
    CHECK(!g.fd);
  }
  OpenedFile f;
  CHECK(open_beneath(fd, "in", f).status == OpenStatus::kOk);  // stays beneath: followed
  OpenedFile w;
  CHECK(open_beneath_walk(fd, "in", w).status == OpenStatus::kRefused);  // the walk never follows
  OpenedFile d;
  CHECK(open_beneath_walk(fd, "sub/../sub/file.txt", d).status == OpenStatus::kRefused);
}
