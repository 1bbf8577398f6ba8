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

// Whether a stored response is one gatehouse makes compressed variants of: 200, no
// Content-Encoding of its own, a compressible Content-Type, no no-transform (RFC 9111 5.2.2.6).
// The store stage keeps such a response (cache.compress on) with "accept-encoding" among its
// vary names and the identity value in its variant (vary_values with identity_coding), so that
// a request accepting br or gzip misses it and gets a compressed variant instead.
bool compressible_object(const StoredHead& identity);
bool compressible_object(const ObjectHead& identity);

// Whether a compressed variant may be made of |identity| now: compressible_object, complete,
// at most kMaxCompressOnHit bytes (larger objects are served identity).
bool may_compress(const Object& identity);

// The head of |identity|'s |coding| variant: Content-Encoding added, Content-Length dropped
// (the new length is the body's), a strong ETag made weak (the bytes differ: RFC 9110 8.8.3),
// Accept-Encoding in Vary; |variant| is the secondary key it is stored under.
ObjectHead compressed_head(ObjectHead identity, Coding coding, std::string variant);

// Compresses |identity| (memory or disk) once into its |coding| variant and stores it beside
// it under |variant| (the secondary key of the request it is made for: vary_values), so later
// requests like it hit. Returns the complete variant, or null if it cannot be made, or while
// another thread makes the same one (the caller then serves the identity object: no one
// waits, and the body is compressed once). Runs on the caller's thread.
ObjectRef compress_variant(Cache& cache, const ObjectRef& identity, Coding coding,
                           std::string variant);

}  // namespace cache
