// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/freshness.h"
#include "proxy/http/headers.h"
#include "proxy/http/message.h"

// The shared-cache rules of RFC 9111 as pure functions of (request, response, now). No I/O, no
// clock: every caller passes the time. Each function names its section.
namespace cache {

// The operator's knobs that policy needs.
struct PolicyConfig {
  // RFC 9213: this field (CDN-Cache-Control by default) wins over Cache-Control for our own
  // storage decisions when the response carries it.
  std::string_view targeted_header = "cdn-cache-control";
  std::optional<int64_t> ttl;            // a rule's cache: {ttl}: overrides the backend's freshness
  uint32_t stale_while_revalidate = 10;  // defaults when the response names none
  uint32_t stale_if_error = 3600;
  uint64_t max_object_size = 4ull << 30;
};

struct StoreDecision {
  bool store = false;
  const char* reason = "";  // why not, for the logs ("no-store", "Set-Cookie", ...)
  Freshness freshness;
};

// RFC 9111 3 (and 3.5 for Authorization, 4.2.1-4.2.2 for freshness): may a shared cache store
// |resp| to |req|, and how fresh is it? Also refuses, by gatehouse's own rule, any response with
// Set-Cookie, and a body declared larger than max_object_size. request_time/response_time are as
// in 4.2.3. A 206 or a 304 is never stored as a new object (gatehouse stores complete responses).
StoreDecision decide_store(const proxy::http::RequestHead& req,
                           const proxy::http::ResponseHead& resp, UnixTime request_time,
                           UnixTime response_time, const PolicyConfig& config);

// RFC 9111 3.1 and 5.2.2.4/5.2.2.7: whether a response field is kept in the stored head (not
// hop-by-hop, not listed by Connection, not a qualified private/no-cache field, not the targeted
// field). Surrogate-Key is kept as the object's tags, never as a field sent to clients.
bool stored_field(std::string_view name, const Directives& cc,
                  const proxy::http::ConnectionOptions& connection,
                  std::string_view targeted_header);

enum class Reuse {
  kFresh,                 // serve it as it is
  kStaleWhileRevalidate,  // serve it stale, and refresh it in the background (5861 3)
  kRevalidate,            // ask the backend (conditionally, if it has validators)
};

// RFC 9111 4 and 4.2.4, with the request's directives (5.2.1: max-age, max-stale, min-fresh,
// no-cache; Pragma: no-cache when the request has no Cache-Control, 5.4).
Reuse decide_reuse(const Freshness& f, const proxy::http::RequestHead& req, UnixTime now);

// RFC 5861 4 / RFC 9111 4.2.4: a stale object may stand in for a failed or 5xx backend answer.
bool may_serve_stale_on_error(const Freshness& f, const proxy::http::RequestHead& req,
                              UnixTime now);

// RFC 9111 4.1. The secondary key: the Vary field names of a stored response, lowercased and
// comma-joined, sorted, unique (false if Vary holds "*": such a response never matches a later
// request, 4.1; false too beyond 32 distinct names).
bool vary_names(const proxy::http::HeaderList& resp, std::string& names);
// The request's values for |names| (vary_names' form), normalized (whitespace folded, lines
// of one field combined; Accept-Encoding reduced to the set of codings it accepts among br,
// deflate, gzip and zstd: accepted_codings in cache/compression.h), appended to |out|. Two
// requests select the same variant when their values are equal. With |identity_coding|, the
// Accept-Encoding value is that of a request accepting no coding (""), whatever |req| says:
// the key of the identity object that cache.compress makes its br and gzip variants from.
void vary_values(std::string_view names, const proxy::http::HeaderList& req, std::string& out,
                 bool identity_coding = false);
// Adds "accept-encoding" to |names| (vary_names' form), keeping it sorted and unique.
void add_vary_accept_encoding(std::string& names);

enum class Precondition {
  kServe,        // no precondition, or they hold: the normal response
  kNotModified,  // 304 (If-None-Match / If-Modified-Since, RFC 9110 13.1.2, 13.1.3)
  kFailed,       // 412 (If-Match / If-Unmodified-Since)
};
// RFC 9111 4.3.2 / RFC 9110 13.2.2: a client's conditional GET or HEAD evaluated against a
// stored response's fields.
Precondition evaluate_preconditions(const proxy::http::RequestHead& req,
                                    const proxy::http::HeaderList& stored);

// RFC 9111 3.2 / 4.3.4: the stored fields after a 304 |update|: each field the 304 carries
// replaces the stored ones of its name, except Content-Length, Content-Encoding-dependent ones
// and those never stored (stored_field). Writes "Name: value\r\n" lines to |out|.
void merge_not_modified(const proxy::http::HeaderList& stored,
                        const proxy::http::HeaderList& update, std::string& out);
// The same, naming the configured targeted field (PolicyConfig::targeted_header), never stored.
void merge_not_modified(const proxy::http::HeaderList& stored,
                        const proxy::http::HeaderList& update, std::string& out,
                        std::string_view targeted_header);

// RFC 9111 4.3.4: whether a 304 (|update|, its fields) is about the stored response |stored|:
// the same entity-tag (the 304's strong or weak one against the stored one) or, without one, the
// same Last-Modified. A 304 with no validator at all answers our own conditional request for
// this object, and updates it. A false answer: the stored response is not updated by it (and
// the request is forwarded without validators).
bool not_modified_matches(const proxy::http::HeaderList& stored,
                          const proxy::http::HeaderList& update);

// RFC 9111 4.3.4 / 4.2: the freshness of a stored response of |status| after a 304 updated its
// fields to |merged| (merge_not_modified's output, decoded). The Age and Date of the 304
// (|not_modified|, received at |response_time| for a request sent at |request_time|) give the
// new age; the targeted field, never stored, is read from the 304.
Freshness updated_freshness(int status, const proxy::http::HeaderList& merged,
                            const proxy::http::HeaderList& not_modified, UnixTime request_time,
                            UnixTime response_time, const PolicyConfig& config);

// RFC 9111 4.3.1: the If-None-Match / If-Modified-Since fields for revalidating |stored| (ETag,
// else Last-Modified). Writes "Name: value\r\n" lines to |out|; false if it has no validator.
bool validators_for(const proxy::http::HeaderList& stored, std::string& out);

// RFC 9111 4.4: a non-error response to an unsafe method invalidates the target URI and the
// URIs in Location and Content-Location. Returns those two field values (empty if absent).
struct Invalidation {
  bool target = false;  // invalidate the request's own URI
  std::string_view location;
  std::string_view content_location;
};
Invalidation invalidation_for(const proxy::http::RequestHead& req,
                              const proxy::http::ResponseHead& resp);

// RFC 9110 15.1: the status codes that are heuristically cacheable.
bool heuristically_cacheable(int status);

}  // namespace cache
