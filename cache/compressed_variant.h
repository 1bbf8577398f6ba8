// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cache/cache.h"
#include "cache/compression.h"
#include "cache/object.h"

namespace cache {

// Objects larger than this are not compressed on a hit: a client waits while it is done.
inline constexpr uint64_t kMaxCompressOnHit = 8ull << 20;

// Whether a stored identity response may get a compressed variant: complete, 200, no
// Content-Encoding of its own, a compressible Content-Type, no no-transform (RFC 9111 5.2.2.6),
// at most kMaxCompressOnHit bytes. The store stage keeps such a response with
// "accept-encoding" among its vary names and the identity coding in its variant, so that a
// request accepting br or gzip misses it and gets the compressed variant instead.
bool may_compress(const Object& identity);

// The head of |identity|'s |coding| variant: Content-Encoding added, Content-Length dropped
// (the new length is the body's), a strong ETag made weak (the bytes differ: RFC 9110 8.8.3),
// Accept-Encoding in Vary; |variant| is the secondary key it is stored under.
ObjectHead compressed_head(const ObjectHead& identity, Coding coding, std::string variant);

// Compresses |identity| (memory or disk) once into its |coding| variant and stores it beside
// it, so later requests hit it. Returns the complete variant, or null if it cannot be made
// (the caller then serves the identity object). Runs on the caller's thread.
std::shared_ptr<const Object> compress_variant(Cache& cache,
                                               const std::shared_ptr<const Object>& identity,
                                               Coding coding, std::string variant);

}  // namespace cache
