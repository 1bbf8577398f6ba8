// SPDX-License-Identifier: MIT
#include "cache/cache_key.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <cstring>

namespace cache {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// The host as it enters the key: without a default (or empty) port and without the trailing
// dot of a fully qualified name. Lowercasing happens while it is copied.
std::string_view canonical_host(std::string_view scheme, std::string_view host) {
  // The port follows the last ':' that is not inside an IPv6 literal's brackets.
  const size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const std::string_view port = host.substr(colon + 1);
    const bool is_default = port.empty() || (port == "80" && iequals(scheme, "http")) ||
                            (port == "443" && iequals(scheme, "https"));
    if (is_default) host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

// Feeds the key's text to XXH3-128: through a stack buffer when it fits (one-shot hashing is
// the fast path for short keys), else through a streaming state, also on the stack.
class KeyHasher {
 public:
  void add(std::string_view s, bool lowercase = false) {
    if (streaming_) return feed(s, lowercase);
    if (len_ + s.size() > sizeof(buf_)) {
      XXH3_128bits_reset(&state_);
      XXH3_128bits_update(&state_, buf_, len_);
      streaming_ = true;
      return feed(s, lowercase);
    }
    copy(buf_ + len_, s, lowercase);
    len_ += s.size();
  }
  CacheKey finish() {
    const XXH128_hash_t h = streaming_ ? XXH3_128bits_digest(&state_) : XXH3_128bits(buf_, len_);
    return CacheKey{h.high64, h.low64};
  }

 private:
  static void copy(char* out, std::string_view s, bool lowercase) {
    if (!lowercase) {
      std::memcpy(out, s.data(), s.size());
      return;
    }
    for (size_t i = 0; i < s.size(); ++i) out[i] = lower(s[i]);
  }
  void feed(std::string_view s, bool lowercase) {
    if (!lowercase) {
      XXH3_128bits_update(&state_, s.data(), s.size());
      return;
    }
    char chunk[256];
    while (!s.empty()) {
      const size_t n = s.size() < sizeof(chunk) ? s.size() : sizeof(chunk);
      copy(chunk, s.substr(0, n), true);
      XXH3_128bits_update(&state_, chunk, n);
      s.remove_prefix(n);
    }
  }

  char buf_[1024];
  size_t len_ = 0;
  bool streaming_ = false;
  XXH3_state_t state_;
};

}  // namespace

CacheKey make_key(std::string_view scheme, std::string_view host, std::string_view path,
                  std::string_view query, bool has_query, bool include_scheme) {
  KeyHasher h;
  if (include_scheme) {
    h.add(scheme, true);
    h.add("://");
  }
  h.add(canonical_host(scheme, host), true);
  h.add(path);
  if (has_query) {
    h.add("?");
    h.add(query);
  }
  return h.finish();
}

bool key_for_url(std::string_view url, std::string_view default_scheme,
                 std::string_view default_host, bool include_scheme, CacheKey& out) {
  // The fragment never reaches a server (RFC 9110 4.2.4).
  if (const size_t hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  std::string_view scheme = default_scheme;
  std::string_view host = default_host;
  std::string_view rest = url;
  if (url.empty()) return false;
  if (url.front() != '/') {
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos) return false;
    scheme = url.substr(0, sep);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    const std::string_view after = url.substr(sep + 3);
    const size_t path_start = after.find_first_of("/?");
    host = after.substr(0, path_start);
    rest = path_start == std::string_view::npos ? std::string_view{} : after.substr(path_start);
    if (const size_t at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
    if (host.empty()) return false;
  } else if (url.size() > 1 && url[1] == '/') {
    return false;  // a network-path reference ("//host/..."): not what purge or Location means here
  }
  std::string_view path = rest;
  std::string_view query;
  bool has_query = false;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
    has_query = true;
  }
  if (path.empty()) path = "/";
  out = make_key(scheme, host, path, query, has_query, include_scheme);
  return true;
}

}  // namespace cache
