// SPDX-License-Identifier: MIT
#include "tls/certificate.h"

#include <doctest/doctest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "tests/tls/cert_factory.h"

namespace tls {
namespace {

using gatehouse_test::TempDir;
using test::CertSpec;
using test::write_cert;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("a valid certificate loads with its SAN names and key type") {
  TempDir dir;
  SUBCASE("ECDSA P-256") {
    auto c = write_cert(dir, "ec", {"example.org", "DNS:example.org,DNS:*.Example.org", false});
    auto loaded = load_certificate(c, std::time(nullptr));
    REQUIRE_MESSAGE(loaded.has_value(), (loaded ? "" : loaded.error()));
    CHECK(loaded->key_type == KeyType::kEcdsa);
    CHECK(loaded->names == std::vector<std::string>{"example.org", "*.example.org"});
    CHECK(loaded->warning.empty());
    CHECK(loaded->ocsp.empty());
    CHECK(contains(loaded->subject, "CN=example.org"));
  }
  SUBCASE("RSA 2048") {
    auto c = write_cert(dir, "rsa", {"rsa.example.org", "DNS:rsa.example.org", true});
    auto loaded = load_certificate(c, std::time(nullptr));
    REQUIRE(loaded.has_value());
    CHECK(loaded->key_type == KeyType::kRsa);
    CHECK(loaded->names == std::vector<std::string>{"rsa.example.org"});
  }
}

TEST_CASE("the subject CN names the certificate only when it has no SAN dNSName") {
  TempDir dir;
  auto c = write_cert(dir, "cn", {"Legacy.Example.org", "", false});
  auto loaded = load_certificate(c, std::time(nullptr));
  REQUIRE(loaded.has_value());
  CHECK(loaded->names == std::vector<std::string>{"legacy.example.org"});

  auto with_san = write_cert(dir, "san", {"cn.example.org", "DNS:san.example.org", false});
  auto loaded_san = load_certificate(with_san, std::time(nullptr));
  REQUIRE(loaded_san.has_value());
  CHECK(loaded_san->names == std::vector<std::string>{"san.example.org"});
}

TEST_CASE("the chain after the leaf is kept in order") {
  TempDir dir;
  auto leaf_key = test::make_key(false);
  auto leaf = test::make_cert({"a.example.org", "DNS:a.example.org"}, leaf_key.get());
  auto ca_key = test::make_key(false);
  auto ca = test::make_cert({"Test CA", ""}, ca_key.get());
  conf::Certificate c;
  c.cert = dir.write("chain.crt", test::pem(leaf.get()) + test::pem(ca.get()));
  c.key = dir.write("chain.key", test::pem(leaf_key.get()));
  auto loaded = load_certificate(c, std::time(nullptr));
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->chain.size() == 1);
  CHECK(X509_cmp(loaded->chain[0].get(), ca.get()) == 0);
}

TEST_CASE("files that cannot be read are refused with their path") {
  TempDir dir;
  auto good = write_cert(dir, "good", {"a.example.org", "DNS:a.example.org"});
  std::time_t now = std::time(nullptr);
  SUBCASE("missing certificate") {
    good.cert = dir.path() + "/absent.crt";
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "absent.crt"));
    CHECK(contains(r.error(), "No such file"));
  }
  SUBCASE("missing key") {
    good.key = dir.path() + "/absent.key";
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "absent.key"));
  }
  SUBCASE("unreadable certificate (a directory)") {
    std::filesystem::create_directory(dir.path() + "/dir.crt");
    good.cert = dir.path() + "/dir.crt";
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "dir.crt"));
  }
  SUBCASE("not PEM") {
    good.cert = dir.write("junk.crt", "hello");
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "no PEM certificate"));
  }
  SUBCASE("a key that is not a key, without quoting it") {
    good.key =
        dir.write("junk.key", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "junk.key"));
    CHECK_FALSE(contains(r.error(), "c2VjcmV0"));
  }
  SUBCASE("missing OCSP response") {
    good.ocsp_staple = dir.path() + "/absent.der";
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "absent.der"));
  }
  SUBCASE("OCSP response that is not DER") {
    good.ocsp_staple = dir.write("bad.der", "not der");
    auto r = load_certificate(good, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "bad.der"));
  }
}

TEST_CASE("a key that does not match the certificate is refused") {
  TempDir dir;
  auto a = write_cert(dir, "a", {"a.example.org", "DNS:a.example.org"});
  auto b = write_cert(dir, "b", {"b.example.org", "DNS:b.example.org"});
  a.key = b.key;
  auto r = load_certificate(a, std::time(nullptr));
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error(), "does not match"));
}

TEST_CASE("an expired certificate is refused") {
  TempDir dir;
  auto c = write_cert(dir, "old",
                      {"old.example.org", "DNS:old.example.org", false, -30L * 86400, -86400});
  auto r = load_certificate(c, std::time(nullptr));
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error(), "expired"));
}

TEST_CASE("expiry is judged against the given now") {
  TempDir dir;
  auto c = write_cert(dir, "c", {"c.example.org", "DNS:c.example.org"});
  std::time_t now = std::time(nullptr);
  CHECK(load_certificate(c, now).has_value());
  CHECK_FALSE(load_certificate(c, now + 91L * 86400).has_value());
}

TEST_CASE("a certificate expiring within 14 days loads with a warning") {
  TempDir dir;
  auto c = write_cert(dir, "soon",
                      {"soon.example.org", "DNS:soon.example.org", false, -3600, 5L * 86400});
  auto r = load_certificate(c, std::time(nullptr));
  REQUIRE(r.has_value());
  CHECK(contains(r->warning, "expires in"));
}

TEST_CASE("a configured OCSP response is read as bytes") {
  TempDir dir;
  auto c = write_cert(dir, "o", {"o.example.org", "DNS:o.example.org"});
  std::string der = test::ocsp_der(c);
  c.ocsp_staple = dir.write("o.der", der);
  auto r = load_certificate(c, std::time(nullptr));
  REQUIRE(r.has_value());
  CHECK(std::string(r->ocsp.begin(), r->ocsp.end()) == der);
}

TEST_CASE("an OCSP response for another certificate, out of date or unsuccessful is refused") {
  TempDir dir;
  auto c = write_cert(dir, "o", {"o.example.org", "DNS:o.example.org"});
  std::time_t now = std::time(nullptr);
  SUBCASE("for another certificate") {
    auto other = write_cert(dir, "other", {"o.example.org", "DNS:o.example.org"});
    c.ocsp_staple = dir.write("o.der", test::ocsp_der(other));
    auto r = load_certificate(c, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().starts_with("OCSP response " + c.ocsp_staple + ": it is for another"));
  }
  SUBCASE("past its nextUpdate") {
    c.ocsp_staple = dir.write("o.der", test::ocsp_der(c, -60));
    auto r = load_certificate(c, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "out of date: its nextUpdate was"));
    // Judged against the given now: an hour earlier it was still current.
    CHECK(load_certificate(c, now - 3500).has_value());
  }
  SUBCASE("not successful") {
    c.ocsp_staple = dir.write("o.der", test::ocsp_der_status(OCSP_RESPONSE_STATUS_TRYLATER));
    auto r = load_certificate(c, now);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error(), "trylater"));
  }
}

TEST_CASE("a certificate that is not valid yet loads with a warning") {
  TempDir dir;
  auto c = write_cert(dir, "new",
                      {"new.example.org", "DNS:new.example.org", false, 2L * 86400, 90L * 86400});
  auto r = load_certificate(c, std::time(nullptr));
  REQUIRE(r.has_value());
  CHECK(contains(r->warning, "is not valid until"));
  CHECK(load_certificate(c, std::time(nullptr) + 3L * 86400)->warning.empty());
}

}  // namespace
}  // namespace tls
