// SPDX-License-Identifier: MIT
#include "tls/sni.h"

#include "proxy/http/headers.h"

namespace tls {
namespace {

using proxy::http::iequals;

bool is_wildcard(std::string_view p) {
  return p.size() > 2 && p[0] == '*' && p[1] == '.';
}

}  // namespace

bool name_matches(std::string_view pattern, std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return false;
  if (!is_wildcard(pattern)) return iequals(pattern, host);
  std::string_view suffix = pattern.substr(1);  // ".example.org"
  if (suffix.find('.', 1) == std::string_view::npos) return false;
  size_t dot = host.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  return iequals(suffix, host.substr(dot));
}

size_t pick_certificate_index(std::span<const LoadedCertificate> certs,
                              std::string_view server_name) {
  if (server_name.empty()) return 0;
  for (size_t i = 0; i < certs.size(); ++i)
    for (const std::string& n : certs[i].names)
      if (!is_wildcard(n) && name_matches(n, server_name)) return i;
  for (size_t i = 0; i < certs.size(); ++i)
    for (const std::string& n : certs[i].names)
      if (is_wildcard(n) && name_matches(n, server_name)) return i;
  return 0;
}

const LoadedCertificate* pick_certificate(std::span<const LoadedCertificate> certs,
                                          std::string_view server_name) {
  if (certs.empty()) return nullptr;
  return &certs[pick_certificate_index(certs, server_name)];
}

}  // namespace tls
