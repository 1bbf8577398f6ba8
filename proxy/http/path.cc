// SPDX-License-Identifier: MIT
#include <string.h>  // memmem

#include <cstring>

#include "proxy/http/char_class.h"
#include "proxy/http/fields.h"
#include "proxy/http/parser.h"

namespace proxy::http {

namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";

base::Unexpected<ParseError> bad(const char* why) {
  return base::unexpected(ParseError{400, why});
}

// The errors normalize_path can meet, found before it writes anything (a refused request keeps
// its target as received, for the logs): invalid or %00 escapes, and ".." above the root.
base::Expected<void, ParseError> check_path(const char* path, size_t len) {
  size_t depth = 0;  // segments kept so far
  size_t r = 1;
  for (;;) {
    size_t decoded = 0;
    bool all_dots = true;
    while (r < len && path[r] != '/') {
      char c = path[r];
      if (c == '%') {
        if (len - r < 3 || !cc::is(path[r + 1], cc::kHex) || !cc::is(path[r + 2], cc::kHex))
          return bad("invalid percent-encoding in path");
        const int v = cc::hex_value(path[r + 1]) * 16 + cc::hex_value(path[r + 2]);
        if (v == 0) return bad("%00 in path");
        c = static_cast<char>(v);
        r += 3;
      } else {
        ++r;
      }
      ++decoded;
      all_dots = all_dots && c == '.';
    }
    if (all_dots && decoded == 2) {
      if (depth == 0) return bad("path climbs above the root");
      --depth;
    } else if (!(all_dots && decoded == 1)) {
      ++depth;
    }
    if (r >= len) return {};
    ++r;
  }
}

}  // namespace

// One left-to-right pass: each segment is written (escapes normalized) at the write position,
// which never passes the read position since decoding only shrinks; a segment that turns out to
// be "." or ".." is then taken back (RFC 3986 5.2.4), so "%2E%2E" counts as "..".
base::Expected<size_t, ParseError> normalize_path(char* path, size_t len) {
  if (len == 0 || path[0] != '/') return bad("path does not start with '/'");
  // Segments before the first '%' or "/." are already normal: start at the one holding it.
  const char* pct = static_cast<const char*>(std::memchr(path, '%', len));
  const char* dot = static_cast<const char*>(memmem(path, len, "/.", 2));
  if (dot != nullptr) ++dot;
  const char* first = pct == nullptr || (dot != nullptr && dot < pct) ? dot : pct;
  if (first == nullptr) return len;
  if (auto ok = check_path(path, len); !ok) return base::unexpected(ok.error());
  size_t r = static_cast<size_t>(first - path);
  while (path[r - 1] != '/') --r;
  size_t w = r;
  for (;;) {
    const size_t seg = w;
    while (r < len && path[r] != '/') {
      char c = path[r];
      if (c != '%') {
        path[w++] = c;
        ++r;
        continue;
      }
      if (len - r < 3 || !cc::is(path[r + 1], cc::kHex) || !cc::is(path[r + 2], cc::kHex))
        return bad("invalid percent-encoding in path");
      const int v = cc::hex_value(path[r + 1]) * 16 + cc::hex_value(path[r + 2]);
      if (v == 0) return bad("%00 in path");
      if (cc::is(static_cast<char>(v), cc::kUnreserved)) {
        path[w++] = static_cast<char>(v);
      } else {
        path[w++] = '%';
        path[w++] = kUpperHex[v >> 4];
        path[w++] = kUpperHex[v & 15];
      }
      r += 3;
    }
    const size_t seg_len = w - seg;
    const bool dot = seg_len == 1 && path[seg] == '.';
    const bool dotdot = seg_len == 2 && path[seg] == '.' && path[seg + 1] == '.';
    if (dot) {
      w = seg;  // "/a/./b" -> "/a/b", "/a/." -> "/a/"
    } else if (dotdot) {
      if (seg == 1) return bad("path climbs above the root");
      w = seg - 1;  // back to just after the '/' that opens the previous segment
      while (path[w - 1] != '/') --w;
    }
    if (r == len) break;
    ++r;
    if (!dot && !dotdot) path[w++] = '/';
  }
  return w;
}

namespace detail {

base::Expected<void, ParseError> split_path_query(char* target, char* path, char* end,
                                                  RequestHead& out) {
  char* path_end = end;
  if (void* q = std::memchr(path, '?', static_cast<size_t>(end - path))) {
    path_end = static_cast<char*>(q);
    out.has_query = true;
    out.query = std::string_view(path_end + 1, static_cast<size_t>(end - path_end - 1));
  }
  if (path == path_end) {
    out.path = "/";
    return {};
  }
  const size_t path_len = static_cast<size_t>(path_end - path);
  auto n = normalize_path(path, path_len);
  if (!n) return base::unexpected(n.error());
  out.path = std::string_view(path, *n);
  if (*n != path_len) {  // keep target contiguous: the query follows the shorter path
    char* q = path + *n;
    if (out.has_query) {
      std::memmove(q, path_end, static_cast<size_t>(end - path_end));
      out.query = std::string_view(q + 1, out.query.size());
      q += 1 + out.query.size();
    }
    out.target = std::string_view(target, static_cast<size_t>(q - target));
  }
  return {};
}

}  // namespace detail

}  // namespace proxy::http
