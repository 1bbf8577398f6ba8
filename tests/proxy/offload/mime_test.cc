// SPDX-License-Identifier: MIT
#include "proxy/offload/mime.h"

#include <doctest/doctest.h>

using proxy::offload::mime_type;

TEST_CASE("mime_type picks the type from the last extension, case-insensitively") {
  CHECK(mime_type("index.html") == "text/html");
  CHECK(mime_type("a/b/app.CSS") == "text/css");
  CHECK(mime_type("app.js") == "text/javascript");
  CHECK(mime_type("x.json") == "application/json");
  CHECK(mime_type("logo.svg") == "image/svg+xml");
  CHECK(mime_type("p.png") == "image/png");
  CHECK(mime_type("p.jpg") == "image/jpeg");
  CHECK(mime_type("f.woff2") == "font/woff2");
  CHECK(mime_type("repo-master.tar.gz") == "application/gzip");
  CHECK(mime_type("repo.tgz") == "application/gzip");
  CHECK(mime_type("repo.tar") == "application/x-tar");
  CHECK(mime_type("x.zst") == "application/zstd");
  CHECK(mime_type("m.wasm") == "application/wasm");
  CHECK(mime_type("v.mp4") == "video/mp4");
}

TEST_CASE("mime_type falls back to application/octet-stream") {
  CHECK(mime_type("README") == "application/octet-stream");
  CHECK(mime_type("x.unknownext") == "application/octet-stream");
  CHECK(mime_type("trailing.") == "application/octet-stream");
  CHECK(mime_type("dir.d/noext") == "application/octet-stream");
  CHECK(mime_type("") == "application/octet-stream");
}
