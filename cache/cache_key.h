// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cache {

// The primary cache key (RFC 9111 2): the target URI, hashed with XXH3-128. The host is
// lowercased and a default port dropped; the path is the request's normalized path; the scheme
// is part of it only when share_http_https is false. Vary variants share one primary key.
struct CacheKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const CacheKey&) const = default;
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const { return static_cast<size_t>(k.lo); }
};

// |scheme| "http" or "https"; |host| the request's authority (Host); |query| without the '?',
// |has_query| whether a '?' was there (so "/a?" and "/a" are different targets).
CacheKey make_key(std::string_view scheme, std::string_view host, std::string_view path,
                  std::string_view query, bool has_query, bool include_scheme);

// The same, from an absolute URL (purge requests, Location/Content-Location invalidation);
// |default_host| fills in a relative reference. False if |url| cannot be read as one.
bool key_for_url(std::string_view url, std::string_view default_scheme,
                 std::string_view default_host, bool include_scheme, CacheKey& out);

}  // namespace cache
