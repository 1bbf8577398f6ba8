// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "tls/certificate.h"

namespace tls {

// Whether |pattern| (a lower-case certificate name) covers |host| (RFC 6125 6.4): equal ignoring
// ASCII case, or "*.rest" where the '*' stands for exactly one non-empty leftmost label of |host|.
// Partial-label wildcards ("w*.example.org") and wildcards over a single label ("*.org") never
// match.
bool name_matches(std::string_view pattern, std::string_view host);

// The index of the certificate to serve for SNI |server_name| (RFC 6066 3): the first whose names
// hold |server_name| exactly, else the first with a matching wildcard, else 0 (the default).
// |server_name| may be empty (no SNI). |certs| must not be empty.
size_t pick_certificate_index(std::span<const LoadedCertificate> certs,
                              std::string_view server_name);

// As pick_certificate_index, returning the certificate; nullptr only when |certs| is empty.
const LoadedCertificate* pick_certificate(std::span<const LoadedCertificate> certs,
                                          std::string_view server_name);

}  // namespace tls
