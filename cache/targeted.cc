// SPDX-License-Identifier: MIT
// RFC 9213: the targeted cache-control field, a Structured Fields Dictionary (RFC 8941 3.2).
#include "cache/cache_control.h"
#include "cache/policy_detail.h"

namespace cache {
namespace {

using proxy::http::iequals;

enum class Type { kBoolean, kInteger, kDecimal, kString, kToken, kBytes, kInnerList };

struct Member {
  std::string_view key;
  Type type = Type::kBoolean;
  bool boolean = true;
  int64_t integer = 0;
  std::string_view string;  // a String's content, without quotes (escapes left in)
};

bool lcalpha(char c) {
  return c >= 'a' && c <= 'z';
}
bool alpha(char c) {
  return lcalpha(c) || (c >= 'A' && c <= 'Z');
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool tchar_or_extra(char c) {
  if (alpha(c) || digit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
    case ':':
    case '/':
      return true;
    default:
      return false;
  }
}
bool base64(char c) {
  return alpha(c) || digit(c) || c == '+' || c == '/' || c == '=';
}

// A strict RFC 8941 4.2 parser over one field line; every reader fails by returning false.
struct Parser {
  std::string_view s;
  size_t i = 0;

  bool more() const { return i < s.size(); }
  char peek() const { return s[i]; }
  void skip_sp() {
    while (more() && peek() == ' ') ++i;
  }
  void skip_ows() {
    while (more() && detail::is_ws(peek())) ++i;
  }

  bool key(std::string_view& out) {  // 4.2.3.3
    if (!more() || !(lcalpha(peek()) || peek() == '*')) return false;
    const size_t start = i;
    while (more() && (lcalpha(peek()) || digit(peek()) || peek() == '_' || peek() == '-' ||
                      peek() == '.' || peek() == '*'))
      ++i;
    out = s.substr(start, i - start);
    return true;
  }

  bool number(Member& m) {  // 4.2.4
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++i;
    }
    if (!more() || !digit(peek())) return false;
    size_t int_digits = 0, frac_digits = 0;
    bool decimal = false;
    int64_t v = 0;
    while (more() && (digit(peek()) || (peek() == '.' && !decimal))) {
      if (peek() == '.') {
        if (int_digits > 12) return false;
        decimal = true;
      } else if (decimal) {
        ++frac_digits;
      } else {
        v = v * 10 + (peek() - '0');
        ++int_digits;
      }
      ++i;
      if (!decimal && int_digits > 15) return false;
      if (decimal && frac_digits > 3) return false;
    }
    if (decimal && frac_digits == 0) return false;
    m.type = decimal ? Type::kDecimal : Type::kInteger;
    m.integer = negative ? -v : v;
    return true;
  }

  bool string(Member& m) {  // 4.2.5
    const size_t start = ++i;
    while (more()) {
      const char c = peek();
      if (c == '\\') {
        ++i;
        if (!more() || (peek() != '"' && peek() != '\\')) return false;
      } else if (c == '"') {
        m.type = Type::kString;
        m.string = s.substr(start, i - start);
        ++i;
        return true;
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
        return false;
      }
      ++i;
    }
    return false;
  }

  bool bare_item(Member& m) {  // 4.2.3.1
    if (!more()) return false;
    const char c = peek();
    if (c == '-' || digit(c)) return number(m);
    if (c == '"') return string(m);
    if (c == '*' || alpha(c)) {
      while (more() && tchar_or_extra(peek())) ++i;
      m.type = Type::kToken;
      return true;
    }
    if (c == ':') {
      ++i;
      while (more() && base64(peek())) ++i;
      if (!more() || peek() != ':') return false;
      ++i;
      m.type = Type::kBytes;
      return true;
    }
    if (c == '?') {
      ++i;
      if (!more() || (peek() != '0' && peek() != '1')) return false;
      m.type = Type::kBoolean;
      m.boolean = peek() == '1';
      ++i;
      return true;
    }
    return false;
  }

  bool parameters() {  // 4.2.3.2
    while (more() && peek() == ';') {
      ++i;
      skip_sp();
      std::string_view k;
      if (!key(k)) return false;
      if (more() && peek() == '=') {
        ++i;
        Member ignored;
        if (!bare_item(ignored)) return false;
      }
    }
    return true;
  }

  bool inner_list() {  // 4.2.1.2
    ++i;
    while (more()) {
      skip_sp();
      if (more() && peek() == ')') {
        ++i;
        return parameters();
      }
      Member item;
      if (!bare_item(item) || !parameters()) return false;
      if (more() && peek() != ' ' && peek() != ')') return false;
    }
    return false;
  }

  template <class F>
  bool dictionary(F&& on_member) {  // 4.2.2
    skip_sp();
    while (more()) {
      Member m;
      if (!key(m.key)) return false;
      if (more() && peek() == '=') {
        ++i;
        if (more() && peek() == '(') {
          if (!inner_list()) return false;
          m.type = Type::kInnerList;
        } else if (!bare_item(m) || !parameters()) {
          return false;
        }
      } else if (!parameters()) {
        return false;
      }
      on_member(m);
      skip_ows();
      if (!more()) return true;
      if (peek() != ',') return false;
      ++i;
      skip_ows();
      if (!more()) return false;  // a trailing comma
    }
    return true;
  }
};

bool flag(const Member& m) {
  return m.type == Type::kBoolean;
}

// Maps one member to the directive it names; false if its type is wrong for that directive.
bool apply(const Member& m, Directives& d) {
  const std::string_view k = m.key;
  auto seconds = [&](std::optional<uint32_t>& slot) {
    if (m.type != Type::kInteger || m.integer < 0) return false;
    if (!slot) {
      slot = static_cast<uint32_t>(m.integer > detail::kDeltaMax ? detail::kDeltaMax : m.integer);
    }
    return true;
  };
  auto boolean = [&](bool& slot) {
    if (!flag(m)) return false;
    slot = slot || m.boolean;
    return true;
  };
  auto listed = [&](bool& unqualified, bool& has_list, std::string_view& list) {
    if (m.type == Type::kString && !m.string.empty() && !has_list) {
      has_list = true;
      list = m.string;
      return true;
    }
    if (m.type == Type::kString || m.type == Type::kInnerList) {
      unqualified = true;  // a form we do not read field by field: the stricter meaning
      return true;
    }
    return boolean(unqualified);
  };
  if (k == "max-age") return seconds(d.max_age);
  if (k == "s-maxage") return seconds(d.s_maxage);
  if (k == "stale-while-revalidate") return seconds(d.stale_while_revalidate);
  if (k == "stale-if-error") return seconds(d.stale_if_error);
  if (k == "no-store") return boolean(d.no_store);
  if (k == "no-cache") return listed(d.no_cache, d.no_cache_fields, d.no_cache_list);
  if (k == "private") return listed(d.private_, d.private_fields, d.private_list);
  if (k == "public") return boolean(d.public_);
  if (k == "must-revalidate") return boolean(d.must_revalidate);
  if (k == "proxy-revalidate") return boolean(d.proxy_revalidate);
  if (k == "must-understand") return boolean(d.must_understand);
  if (k == "no-transform") return boolean(d.no_transform);
  if (k == "immutable") return boolean(d.immutable);
  return true;  // an extension: valid, and ignored
}

}  // namespace

Directives parse_targeted_cache_control(const proxy::http::HeaderList& headers,
                                        std::string_view name) {
  Directives d;
  bool valid = true;
  bool seen = false;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    seen = true;
    Parser p{h.value};
    valid = p.dictionary([&](const Member& m) {
      if (apply(m, d)) d.any = true;
    });
    if (!valid) break;
  }
  if (!seen || !valid) return Directives{};
  return d;
}

}  // namespace cache
