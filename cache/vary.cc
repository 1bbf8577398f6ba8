// SPDX-License-Identifier: MIT
// RFC 9111 4.1: Vary, the secondary cache key.
#include <algorithm>
#include <array>

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

// The q-value of one Accept-Encoding member ("gzip;q=0.5"): 0..1000; |coding| gets its name.
int member_q(std::string_view member, std::string_view& coding) {
  const size_t semi = member.find(';');
  coding = detail::trim(member.substr(0, semi));
  if (semi == std::string_view::npos) return 1000;
  int q = 1000;
  std::string_view params = member.substr(semi + 1);
  while (!params.empty()) {
    const size_t next = params.find(';');
    const std::string_view p = detail::trim(params.substr(0, next));
    if (p.size() >= 2 && lower(p[0]) == 'q' && p[1] == '=') {
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); anything else counts as 0.
      const std::string_view v = p.substr(2);
      q = 0;
      if (!v.empty() && (v[0] == '0' || v[0] == '1')) {
        q = (v[0] - '0') * 1000;
        int scale = 100;
        for (size_t i = 2; i < v.size() && i < 5 && v[1] == '.'; ++i, scale /= 10) {
          if (v[i] < '0' || v[i] > '9') return 0;
          q += (v[i] - '0') * scale;
        }
        if (q > 1000) q = 0;
      }
    }
    if (next == std::string_view::npos) break;
    params.remove_prefix(next + 1);
  }
  return q;
}

// The coding gatehouse would answer a request with: br, else gzip, by the client's preference
// (RFC 9110 12.5.3), or "" for identity.
std::string_view chosen_coding(const proxy::http::HeaderList& req) {
  int br = -1, gzip = -1, star = -1;
  for (const auto& h : req) {
    if (!iequals(h.name, "accept-encoding")) continue;
    proxy::http::for_each_list_item(h.value, [&](std::string_view member) {
      std::string_view coding;
      const int q = member_q(member, coding);
      if (iequals(coding, "br")) {
        br = std::max(br, q);
      } else if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
        gzip = std::max(gzip, q);
      } else if (coding == "*") {
        star = std::max(star, q);
      }
    });
  }
  if (br < 0) br = star;
  if (gzip < 0) gzip = star;
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return "";
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
      if (n < kMax) found[n++] = name;
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

void vary_values(std::string_view names, const proxy::http::HeaderList& req, std::string& out) {
  proxy::http::for_each_list_item(names, [&](std::string_view name) {
    if (iequals(name, "accept-encoding")) {
      out += chosen_coding(req);
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
