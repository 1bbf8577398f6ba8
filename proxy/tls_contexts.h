// SPDX-License-Identifier: MIT
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "tls/certificate.h"
#include "tls/server_context.h"
#include "tls/ticket_keys.h"

namespace proxy {

// The TLS contexts of a config, one per listener (null for plain and admin listeners without
// `tls:`), indexed like config.listeners. Built by the main process, which can read the keys
// before the worker drops its privileges, and inherited by a new worker through fork; at a
// reload in place the worker builds them from the files' contents the main process sends.
struct TlsContexts {
  std::vector<std::shared_ptr<const tls::ServerContext>> by_listener;
  std::vector<std::string> warnings;  // e.g. a certificate that expires within 14 days
};

// Reads and checks every certificate of |config| as of |now| (tls::load_certificate), for
// `gatehouse check` and before a config is applied: an unusable certificate is an error at its
// `cert:` line (an unusable OCSP staple at its `ocsp_staple:` line), one that expires soon or is
// not valid yet a warning there.
std::vector<conf::ConfigError> check_certificates(const conf::Config& config,
                                                  const std::string& file, std::time_t now);

// Loads every certificate of |config| as of |now|. The first error refuses the whole config
// (a reload then keeps the running one). |ticket_keys| is shared by all listeners. |files|
// non-null: the certificates' files as read_tls_files read them (a worker builds from those).
base::Expected<std::shared_ptr<const TlsContexts>, std::string> build_tls_contexts(
    const conf::Config& config, std::time_t now, std::shared_ptr<tls::TicketKeys> ticket_keys,
    const tls::FileContents* files = nullptr);

// Reads the files of every certificate of |config|, for a worker to build its contexts from.
base::Expected<tls::FileContents, std::string> read_tls_files(const conf::Config& config);

}  // namespace proxy
