// SPDX-License-Identifier: MIT
#include "cache/cache_control.h"

#include "cache/policy_detail.h"
#include "proxy/http/char_class.h"

namespace cache {
namespace {

using proxy::http::iequals;

// RFC 9110 5.6.2, from the HTTP/1 parser's character table.
bool is_tchar(char c) {
  return proxy::http::cc::is(c, proxy::http::cc::kTchar);
}

// One directive as read: name, and its argument (token or quoted-string, quotes removed).
struct Item {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
  bool valid = true;  // false: the directive's syntax is broken (e.g. "max-age =5", "max-age=")
};

// A qualified no-cache/private: the first list is kept; a second one cannot be held in one
// view, so the directive falls back to its unqualified (stricter) meaning.
void qualified(const Item& it, bool& unqualified, bool& has_list, std::string_view& list) {
  if (!it.has_value || !it.valid || it.value.empty()) {
    unqualified = true;
  } else if (has_list) {
    unqualified = true;
  } else {
    has_list = true;
    list = it.value;
  }
}

// A delta-seconds directive that may appear once: a second, different value or a broken one
// makes it invalid (RFC 9111 4.2.1 lets a cache treat such a response as stale).
void once(const Item& it, std::optional<uint32_t>& slot, bool& invalid) {
  const auto v = it.valid && it.has_value ? detail::parse_delta_seconds(it.value) : std::nullopt;
  if (!v || (slot && *slot != *v)) {
    invalid = true;
  } else {
    slot = v;
  }
}

// A delta-seconds directive whose broken form is ignored; the first valid value wins.
void first(const Item& it, std::optional<uint32_t>& slot) {
  if (slot || !it.valid || !it.has_value) return;
  slot = detail::parse_delta_seconds(it.value);
}

void apply(const Item& it, Directives& d) {
  const std::string_view n = it.name;
  d.any = true;
  if (iequals(n, "max-age")) {
    once(it, d.max_age, d.max_age_invalid);
  } else if (iequals(n, "s-maxage")) {
    once(it, d.s_maxage, d.s_maxage_invalid);
  } else if (iequals(n, "no-store")) {
    d.no_store = true;
  } else if (iequals(n, "no-cache")) {
    qualified(it, d.no_cache, d.no_cache_fields, d.no_cache_list);
  } else if (iequals(n, "private")) {
    qualified(it, d.private_, d.private_fields, d.private_list);
  } else if (iequals(n, "public")) {
    d.public_ = true;
  } else if (iequals(n, "must-revalidate")) {
    d.must_revalidate = true;
  } else if (iequals(n, "proxy-revalidate")) {
    d.proxy_revalidate = true;
  } else if (iequals(n, "stale-while-revalidate")) {
    first(it, d.stale_while_revalidate);
  } else if (iequals(n, "stale-if-error")) {
    first(it, d.stale_if_error);
  } else if (iequals(n, "min-fresh")) {
    first(it, d.min_fresh);
  } else if (iequals(n, "max-stale")) {
    if (!it.has_value) {
      if (!d.max_stale) d.max_stale = UINT32_MAX;
    } else {
      first(it, d.max_stale);
    }
  } else if (iequals(n, "must-understand")) {
    d.must_understand = true;
  } else if (iequals(n, "no-transform")) {
    d.no_transform = true;
  } else if (iequals(n, "only-if-cached")) {
    d.only_if_cached = true;
  } else if (iequals(n, "immutable")) {
    d.immutable = true;
  }
}

// Skips to just past the next comma outside a quoted-string (or to the end).
size_t skip_element(std::string_view s, size_t i) {
  bool quoted = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      return i + 1;
    }
  }
  return s.size();
}

// RFC 9111 5.2: Cache-Control = #cache-directive; cache-directive = token [ "=" ( token /
// quoted-string ) ]. No whitespace is allowed around "=".
void parse_line(std::string_view s, Directives& d) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (detail::is_ws(s[i]) || s[i] == ',')) ++i;
    if (i == s.size()) break;
    const size_t start = i;
    while (i < s.size() && is_tchar(s[i])) ++i;
    Item it;
    it.name = s.substr(start, i - start);
    if (it.name.empty()) {  // not a directive at all: skip the element
      i = skip_element(s, i);
      continue;
    }
    if (i < s.size() && s[i] == '=') {
      it.has_value = true;
      ++i;
      if (i < s.size() && s[i] == '"') {
        const size_t vstart = ++i;
        while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
        if (i >= s.size()) {
          it.valid = false;
          it.value = s.substr(vstart);
          i = s.size();
        } else {
          it.value = s.substr(vstart, i - vstart);
          ++i;
        }
      } else {
        const size_t vstart = i;
        while (i < s.size() && is_tchar(s[i])) ++i;
        it.value = s.substr(vstart, i - vstart);
        if (it.value.empty()) it.valid = false;
      }
    }
    while (i < s.size() && detail::is_ws(s[i])) ++i;
    if (i < s.size() && s[i] != ',') {
      it.valid = false;
      i = skip_element(s, i);
    }
    apply(it, d);
  }
}

}  // namespace

Directives parse_cache_control(const proxy::http::HeaderList& headers, std::string_view name) {
  Directives d;
  for (const auto& h : headers)
    if (iequals(h.name, name)) parse_line(h.value, d);
  return d;
}

}  // namespace cache
