// SPDX-License-Identifier: MIT
#include "tls/certificate.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "tls/errors.h"

namespace tls {
namespace {

using proxy::base::Expected;
using proxy::base::unexpected;

using Bytes = std::vector<unsigned char>;

Expected<Bytes, std::string> read_file(const std::string& path, const char* what) {
  if (path.empty()) return unexpected(std::string(what) + ": no path configured");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return unexpected(std::string(what) + " " + path + ": " + std::strerror(errno));
  Bytes out;
  unsigned char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  bool failed = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (failed) return unexpected(std::string(what) + " " + path + ": " + std::strerror(err));
  return out;
}

// A file's contents from |files| when given, else from the filesystem.
Expected<Bytes, std::string> contents(const std::string& path, const char* what,
                                      const FileContents* files) {
  if (!files) return read_file(path, what);
  if (path.empty()) return unexpected(std::string(what) + ": no path configured");
  auto it = files->find(path);
  if (it == files->end()) return unexpected(std::string(what) + " " + path + ": not read");
  return it->second;
}

BioPtr memory_bio(const Bytes& b) {
  return BioPtr(BIO_new_mem_buf(b.data(), static_cast<int>(b.size())));
}

// Refuses to prompt on a terminal for an encrypted key's passphrase.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string asn1_string(const ASN1_STRING* s) {
  const unsigned char* p = ASN1_STRING_get0_data(s);
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(ASN1_STRING_length(s)));
}

// SAN dNSNames; the subject CN only when the certificate has no dNSName (RFC 6125 6.4.4).
std::vector<std::string> sni_names(X509* leaf) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      std::string name = asn1_string(gn->d.dNSName);
      if (name.empty() || name.find('\0') != std::string::npos) continue;
      names.push_back(lower(std::move(name)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(leaf);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx < 0) return names;
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
  if (len > 0) {
    std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    if (cn.find('\0') == std::string::npos) names.push_back(lower(std::move(cn)));
  }
  OPENSSL_free(utf8);
  return names;
}

std::string one_line(X509_NAME* name) {
  char buf[512];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

Expected<std::time_t, std::string> to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (!ASN1_TIME_to_tm(t, &tm)) return unexpected(error_with_queue("bad certificate time"));
  return timegm(&tm);
}

std::string utc(std::time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The certificate that issued |leaf|: one of |chain|, or |leaf| itself when self-issued; null
// when the chain does not carry it.
X509* find_issuer(X509* leaf, const std::vector<X509Ptr>& chain) {
  for (const auto& c : chain)
    if (X509_check_issued(c.get(), leaf) == X509_V_OK) return c.get();
  return X509_check_issued(leaf, leaf) == X509_V_OK ? leaf : nullptr;
}

// True when |id| (RFC 6960 4.1.1 CertID) names |leaf|: its serial, its issuer's name hash and,
// when the issuer is known, the issuer's key hash, in the digest the responder chose.
bool names_certificate(const OCSP_CERTID* id, X509* leaf, X509* issuer) {
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OBJECT* md_oid = nullptr;
  ASN1_INTEGER* serial = nullptr;
  // OpenSSL 3 takes a non-const id, though it only reads it.
  OCSP_id_get0_info(&name_hash, &md_oid, nullptr, &serial, const_cast<OCSP_CERTID*>(id));
  if (!serial || ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0) return false;
  const EVP_MD* md = EVP_get_digestbyobj(md_oid);
  if (!md) return false;
  if (issuer) {
    OCSP_CERTID* mine = OCSP_cert_to_id(md, leaf, issuer);
    bool same = mine && OCSP_id_cmp(mine, id) == 0;
    OCSP_CERTID_free(mine);
    return same;
  }
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_NAME_digest(X509_get_issuer_name(leaf), md, hash, &len)) return false;
  return name_hash && static_cast<unsigned int>(ASN1_STRING_length(name_hash)) == len &&
         std::memcmp(ASN1_STRING_get0_data(name_hash), hash, len) == 0;
}

// Empty when |resp| is a successful response about |out|'s leaf that is still current at |now|
// (its nextUpdate, when it has one, not passed); else why not. The signature is the client's to
// check.
std::string unusable_staple(OCSP_RESPONSE* resp, const LoadedCertificate& out, std::time_t now) {
  int status = OCSP_response_status(resp);
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return std::string("its status is ") + OCSP_response_status_str(status) + ", not successful";
  OCSP_BASICRESP* basic = OCSP_response_get1_basic(resp);
  if (!basic) return "it holds no basic response";
  X509* issuer = find_issuer(out.leaf.get(), out.chain);
  OCSP_SINGLERESP* single = nullptr;
  for (int i = 0; i < OCSP_resp_count(basic) && !single; ++i) {
    OCSP_SINGLERESP* s = OCSP_resp_get0(basic, i);
    if (names_certificate(OCSP_SINGLERESP_get0_id(s), out.leaf.get(), issuer)) single = s;
  }
  std::string why;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (!single) {
    why = "it is for another certificate (its CertID does not match " + out.subject + ")";
  } else if (OCSP_single_get0_status(single, nullptr, nullptr, nullptr, &next_update) >= 0 &&
             next_update) {
    auto t = to_time_t(next_update);
    if (!t)
      why = t.error();
    else if (*t < now)
      why = "it is out of date: its nextUpdate was " + utc(*t);
  }
  OCSP_BASICRESP_free(basic);
  return why;
}

}  // namespace

Expected<LoadedCertificate, std::string> load_certificate(const conf::Certificate& c,
                                                          std::time_t now,
                                                          const FileContents* files) {
  ERR_clear_error();
  LoadedCertificate out;

  auto pem = contents(c.cert, "certificate", files);
  if (!pem) return unexpected(pem.error());
  {
    BioPtr bio = memory_bio(*pem);
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
      if (!out.leaf)
        out.leaf.reset(x);
      else
        out.chain.emplace_back(x);
    }
    ERR_clear_error();  // the loop always ends on "no start line"
  }
  if (!out.leaf) return unexpected("certificate " + c.cert + ": no PEM certificate found");

  auto key_pem = contents(c.key, "key", files);
  if (!key_pem) return unexpected(key_pem.error());
  {
    BioPtr bio = memory_bio(*key_pem);
    out.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
  }
  if (!out.key) {
    ERR_clear_error();  // the queue may quote the key file; say only which file failed
    return unexpected("key " + c.key + ": not an unencrypted PEM private key");
  }
  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    ERR_clear_error();
    return unexpected("key " + c.key + " does not match certificate " + c.cert);
  }
  switch (EVP_PKEY_get_base_id(out.key.get())) {
    case EVP_PKEY_RSA:
      out.key_type = KeyType::kRsa;
      break;
    case EVP_PKEY_EC:
      out.key_type = KeyType::kEcdsa;
      break;
    default:
      out.key_type = KeyType::kOther;
  }

  out.subject = one_line(X509_get_subject_name(out.leaf.get()));
  auto not_after = to_time_t(X509_get0_notAfter(out.leaf.get()));
  if (!not_after) return unexpected("certificate " + c.cert + ": " + not_after.error());
  out.not_after = *not_after;
  if (out.not_after < now)
    return unexpected("certificate " + c.cert + " (" + out.subject + ") expired");
  if (out.not_after - now < kExpiryWarningSeconds) {
    out.warning = "certificate " + c.cert + " (" + out.subject + ") expires in " +
                  std::to_string((out.not_after - now) / 86400) + " days";
  }
  auto not_before = to_time_t(X509_get0_notBefore(out.leaf.get()));
  if (!not_before) return unexpected("certificate " + c.cert + ": " + not_before.error());
  if (*not_before > now) {
    out.warning +=
        (out.warning.empty() ? "" : "; ") +
        ("certificate " + c.cert + " (" + out.subject + ") is not valid until " + utc(*not_before));
  }

  out.names = sni_names(out.leaf.get());
  if (out.names.empty())
    return unexpected("certificate " + c.cert + ": no DNS name in subjectAltName or CN");

  if (!c.ocsp_staple.empty()) {
    auto der = contents(c.ocsp_staple, "OCSP response", files);
    if (!der) return unexpected(der.error());
    const unsigned char* p = der->data();
    OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der->size()));
    if (!resp || p != der->data() + der->size()) {
      OCSP_RESPONSE_free(resp);
      return unexpected(error_with_queue("OCSP response " + c.ocsp_staple + ": not DER"));
    }
    std::string why = unusable_staple(resp, out, now);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
    if (!why.empty()) return unexpected("OCSP response " + c.ocsp_staple + ": " + why);
    out.ocsp = std::move(*der);
  }
  return out;
}

Expected<void, std::string> read_certificate_files(const conf::TlsConfig& config,
                                                   FileContents& out) {
  auto add = [&](const std::string& path, const char* what) -> Expected<void, std::string> {
    if (path.empty() || out.count(path)) return {};
    auto bytes = read_file(path, what);
    if (!bytes) return unexpected(bytes.error());
    out.emplace(path, std::move(*bytes));
    return {};
  };
  for (const conf::Certificate& c : config.certificates) {
    if (auto r = add(c.cert, "certificate"); !r) return r;
    if (auto r = add(c.key, "key"); !r) return r;
    if (auto r = add(c.ocsp_staple, "OCSP response"); !r) return r;
  }
  return {};
}

void cleanse(FileContents& files) {
  for (auto& [path, bytes] : files)
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  files.clear();
}

}  // namespace tls
