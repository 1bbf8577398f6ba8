// SPDX-License-Identifier: MIT
// RFC 9111 4.1: Vary, the secondary cache key.
#include <algorithm>
#include <array>

#include "cache/compression.h"
#include "cache/policy.h"
#include "cache/policy_detail.h"

namespace cache {

using proxy::http::iequals;

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iless(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

// The Accept-Encoding of |req| in its secondary-key form (accepted_codings). Several lines
// count as one list (RFC 9110 5.3).
void accept_encoding_key(const proxy::http::HeaderList& req, std::string& out) {
  const proxy::http::Header* only = nullptr;
  size_t lines = 0;
  for (const auto& h : req) {
    if (!iequals(h.name, "accept-encoding")) continue;
    only = &h;
    ++lines;
  }
  if (lines == 0) return;
  if (lines == 1) {
    accepted_codings(only->value, out);
    return;
  }
  std::string joined;
  for (const auto& h : req) {
    if (!iequals(h.name, "accept-encoding")) continue;
    if (!joined.empty()) joined.push_back(',');
    joined.append(h.value);
  }
  accepted_codings(joined, out);
}

// Appends |v| with whitespace runs folded to one space and none around commas.
void append_normalized(std::string_view v, std::string& out) {
  bool space = false;
  for (char c : detail::trim(v)) {
    if (detail::is_ws(c)) {
      space = true;
      continue;
    }
    if (c == ',') {
      space = false;
    } else if (space && !out.empty() && out.back() != ',') {
      out.push_back(' ');
    }
    space = false;
    out.push_back(c);
  }
}

}  // namespace

bool vary_names(const proxy::http::HeaderList& resp, std::string& names) {
  names.clear();
  constexpr size_t kMax = 32;
  std::array<std::string_view, kMax> found;
  size_t n = 0;
  bool star = false;
  for (const auto& h : resp) {
    if (!iequals(h.name, "vary")) continue;
    proxy::http::for_each_list_item(h.value, [&](std::string_view name) {
      if (name == "*") star = true;
      for (size_t i = 0; i < n; ++i)
        if (iequals(found[i], name)) return;
      if (n < kMax) {
        found[n++] = name;
      } else {
        star = true;  // more names than we compare: never match rather than match too widely
      }
    });
  }
  if (star) return false;
  std::sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), iless);
  for (size_t i = 0; i < n; ++i) {
    if (i) names.push_back(',');
    for (char c : found[i]) names.push_back(lower(c));
  }
  return true;
}

void vary_values(std::string_view names, const proxy::http::HeaderList& req, std::string& out,
                 bool identity_coding) {
  proxy::http::for_each_list_item(names, [&](std::string_view name) {
    if (iequals(name, "accept-encoding")) {
      if (!identity_coding) accept_encoding_key(req, out);
      out.push_back('\n');
      return;
    }
    bool present = false;
    for (const auto& h : req) {
      if (!iequals(h.name, name)) continue;
      if (present) out.push_back(',');
      present = true;
      append_normalized(h.value, out);
    }
    // An absent field differs from an empty one; values never hold control characters.
    if (!present) out.push_back('\x01');
    out.push_back('\n');
  });
}

}  // namespace cache

namespace cache {

void add_vary_accept_encoding(std::string& names) {
  std::array<std::string_view, 33> found;
  size_t n = 0;
  bool present = false;
  proxy::http::for_each_list_item(names, [&](std::string_view name) {
    if (name == "accept-encoding") present = true;
    if (n < found.size()) found[n++] = name;
  });
  if (present || n == found.size()) return;
  found[n++] = "accept-encoding";
  std::sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n));
  std::string joined;
  for (size_t i = 0; i < n; ++i) joined.append(i ? "," : "").append(found[i]);
  names = std::move(joined);
}

}  // namespace cache
