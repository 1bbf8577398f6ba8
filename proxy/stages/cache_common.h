// SPDX-License-Identifier: MIT
// What the cache stages (cache_lookup.cc, cache_store.cc) share: the request's key and policy,
// and serving a stored object. Not a stage: helpers the two stages call.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cache/cache_key.h"
#include "cache/compression.h"
#include "cache/freshness.h"
#include "cache/object.h"
#include "cache/policy.h"
#include "proxy/exchange_cache.h"
#include "proxy/pipeline.h"

namespace proxy {
struct Exchange;
}

namespace proxy::stages {

// The request's scheme as the key sees it.
std::string_view request_scheme(const Exchange& ex);
// The host part of an authority, without the port ("[::1]:80" -> "[::1]").
std::string_view authority_host(std::string_view authority);
// The primary key of the exchange's request (RFC 9111 2; scheme only if not shared).
cache::CacheKey request_key(const Exchange& ex);
// The policy knobs of the exchange's config and rule.
cache::PolicyConfig request_policy(const Exchange& ex);
// Now, in the seconds Date and Age speak (the loop's cached clock).
cache::UnixTime cache_now(const Exchange& ex);

// The codings cache.compress enabled (none: gatehouse compresses nothing).
cache::CodingSet compress_codings(const Exchange& ex);

// Answers the exchange from |object| (preconditions, Range and HEAD applied, cache_reply.h): its
// body producer is set up and the deliver stage writes the head. Returns Next::kServe.
Next serve_object(Exchange& ex, cache::ObjectRef object, CacheStatus status);

}  // namespace proxy::stages
