// SPDX-License-Identifier: MIT
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "tls/handles.h"

namespace tls {

enum class KeyType { kRsa, kEcdsa, kOther };

// One configured certificate, read and checked, ready to go into an SSL_CTX.
struct LoadedCertificate {
  X509Ptr leaf;
  std::vector<X509Ptr> chain;  // intermediates, in file order after the leaf
  EvpPkeyPtr key;              // never logged or formatted
  KeyType key_type = KeyType::kOther;
  std::vector<std::string> names;  // SNI names, lower case: SAN dNSNames, else the subject CN
  std::string subject;             // one-line subject, for messages
  std::time_t not_after = 0;
  std::vector<unsigned char> ocsp;  // DER OCSPResponse to staple; empty if none configured
  std::string warning;              // non-fatal: expires within kExpiryWarning, or not valid yet
};

// How close to its notAfter a certificate draws a warning.
constexpr std::time_t kExpiryWarningSeconds = 14 * 24 * 3600;

// Reads |c|'s PEM chain (leaf first), its PEM key and its optional DER OCSP response, and checks
// them as of |now|. Errors: a missing or unreadable file, no certificate, an unparsable or
// encrypted key, a key that does not match the leaf, an expired leaf, an OCSP response that is
// not DER, not successful, for another certificate (its CertID does not name the leaf and its
// issuer from the chain) or past its nextUpdate; those about the OCSP response, and only they,
// begin with "OCSP response ". A leaf expiring within 14 days, or not valid yet, loads with
// |warning| set. Messages name files, never key contents. Pure apart from reading the three files.
//
// |files| non-null: the files' contents are taken from it, by path as configured, instead of
// being read (a worker that may not read the key files builds from what the main process read).
using FileContents = std::map<std::string, std::vector<unsigned char>>;
proxy::base::Expected<LoadedCertificate, std::string> load_certificate(
    const conf::Certificate& c, std::time_t now, const FileContents* files = nullptr);

// Reads the files |config|'s certificates name (chain, key, OCSP response) into |out|. The first
// file that cannot be read is the error, worded as load_certificate words it.
proxy::base::Expected<void, std::string> read_certificate_files(const conf::TlsConfig& config,
                                                                FileContents& out);

// Overwrites and drops the contents of |files| (they hold private keys).
void cleanse(FileContents& files);

}  // namespace tls
