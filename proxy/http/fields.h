// SPDX-License-Identifier: MIT
// Pieces shared by the request and response head parsers (internal to proxy/http).
#pragma once

#include <cstdint>

#include "proxy/base/expected.h"
#include "proxy/http/headers.h"
#include "proxy/http/parser.h"

namespace proxy::http::detail {

// RFC 9112 2.2 asks to skip "at least one" empty line before a request; more is refused, which also
// keeps the repeated scans of an incomplete head short.
inline constexpr int kMaxLeadingEmptyLines = 8;

// The fields that decide framing, routing and connection reuse, noted while the field lines are
// parsed so that nothing scans the list again. Pointers are into the HeaderList.
struct KnownFields {
  const Header* host = nullptr;  // the first of each
  const Header* content_length = nullptr;
  const Header* transfer_encoding = nullptr;
  const Header* upgrade = nullptr;
  uint32_t host_count = 0;
  uint32_t content_length_count = 0;
  uint32_t transfer_encoding_count = 0;
  uint32_t expect_count = 0;
  bool expect_other = false;  // an Expect other than "100-continue"
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;  // Connection names "upgrade" (RFC 9110 7.8)
};

// Parses field lines (RFC 9112 5) from p up to and including the empty line that ends the head,
// and returns where it stopped. The byte at end[-1] must be '\n': scans rely on it to stop.
// Errors are 400 for syntax and 431 for more than HeaderList::kCapacity fields; a response
// parser turns them into 502.
base::Expected<const char*, ParseError> parse_fields(const char* p, const char* end,
                                                     HeaderList& out, KnownFields& known);

// The method for a method token; kOther for extension methods.
Method method_from_name(std::string_view m);

// authority = host [ ":" port ] with host an IP-literal, IPv4address or reg-name (RFC 3986 3.2);
// userinfo, an empty host and an empty port are refused (RFC 9110 4.2.4). Host fields and the
// HTTP/2 :authority are checked with it.
bool valid_authority(std::string_view a);

// The origin-form part of a target: [path, end) is path ['?' query], inside the target that starts
// at |target|. Sets out.path, out.query and out.has_query; the path is normalized in place
// (normalize_path) and the query moved up behind it, so out.target stays contiguous. An empty path
// (absolute-form "http://host") reads as "/".
base::Expected<void, ParseError> split_path_query(char* target, char* path, char* end,
                                                  RequestHead& out);

// Reads "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) from the 8 bytes at p; returns the minor version,
// 0 or 1 (1.2 and later count as 1.1). 400 if malformed, 505 if the major version is not 1.
base::Expected<int, ParseError> parse_version(const char* p);

// Whether the connection stays open after this message, from the version and the Connection
// options (RFC 9112 9.3).
inline bool keep_alive(int version_minor, const KnownFields& k) {
  if (k.connection_close) return false;
  return version_minor >= 1 || k.connection_keep_alive;
}

}  // namespace proxy::http::detail
