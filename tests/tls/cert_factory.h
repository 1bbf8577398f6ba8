// SPDX-License-Identifier: MIT
#pragma once

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "conf/config.h"
#include "tests/temp_dir.h"
#include "tls/handles.h"

namespace tls::test {

struct CertSpec {
  std::string cn;
  std::string sans;              // "DNS:a,DNS:b"; empty for none
  bool rsa = false;              // else ECDSA P-256
  long not_before = -3600;       // seconds from now
  long not_after = 90L * 86400;  // seconds from now
};

inline EvpPkeyPtr make_key(bool rsa) {
  EvpPkeyPtr key(rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("key generation failed");
  return key;
}

// A self-signed certificate for |spec| signed by |key|.
inline X509Ptr make_cert(const CertSpec& spec, EVP_PKEY* key) {
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), spec.not_after);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  if (!spec.sans.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, spec.sans.c_str());
    if (!ext) throw std::runtime_error("bad SAN " + spec.sans);
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x.get(), key, EVP_sha256())) throw std::runtime_error("X509_sign failed");
  return x;
}

inline std::string pem(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

inline std::string pem(EVP_PKEY* k) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// Writes <stem>.crt and <stem>.key into |dir| and returns the config entry naming them.
inline conf::Certificate write_cert(const gatehouse_test::TempDir& dir, const std::string& stem,
                                    const CertSpec& spec) {
  EvpPkeyPtr key = make_key(spec.rsa);
  X509Ptr cert = make_cert(spec, key.get());
  conf::Certificate c;
  c.cert = dir.write(stem + ".crt", pem(cert.get()));
  c.key = dir.write(stem + ".key", pem(key.get()));
  return c;
}

inline X509Ptr read_cert(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!x) throw std::runtime_error("cannot read " + path);
  return x;
}

inline EvpPkeyPtr read_key(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  EvpPkeyPtr k(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!k) throw std::runtime_error("cannot read " + path);
  return k;
}

// A DER OCSPResponse saying "good" for the self-signed certificate |c| (signed with its own
// key), with nextUpdate |next_update| seconds from now.
inline std::string ocsp_der(const conf::Certificate& c, long next_update = 86400) {
  X509Ptr leaf = read_cert(c.cert);
  EvpPkeyPtr key = read_key(c.key);
  OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.get(), leaf.get());
  ASN1_TIME* this_update = X509_gmtime_adj(nullptr, -3600);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, next_update);
  OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, this_update, next);
  OCSP_basic_sign(basic, leaf.get(), key.get(), EVP_sha256(), nullptr, 0);
  OCSP_RESPONSE* r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  unsigned char* der = nullptr;
  int n = i2d_OCSP_RESPONSE(r, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(r);
  ASN1_TIME_free(this_update);
  ASN1_TIME_free(next);
  OCSP_CERTID_free(id);
  OCSP_BASICRESP_free(basic);
  return out;
}

// A DER OCSPResponse with |status| and no body ("tryLater" and the like).
inline std::string ocsp_der_status(int status) {
  OCSP_RESPONSE* r = OCSP_response_create(status, nullptr);
  unsigned char* der = nullptr;
  int n = i2d_OCSP_RESPONSE(r, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(r);
  return out;
}

}  // namespace tls::test
