// SPDX-License-Identifier: MIT
// Character classes of the HTTP/1.1 and URI grammars, as one 256-entry table (internal to
// proxy/http).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace proxy::http::cc {

enum : uint16_t {
  kTchar = 1 << 0,       // token (RFC 9110 5.6.2)
  kFieldChar = 1 << 1,   // HTAB, SP, VCHAR, obs-text: field-value and reason-phrase (RFC 9110 5.5)
  kTarget = 1 << 2,      // request-target byte: VCHAR except '#' (RFC 9112 3.2)
  kHex = 1 << 3,         // HEXDIG
  kDigit = 1 << 4,       // DIGIT
  kUnreserved = 1 << 5,  // ALPHA DIGIT - . _ ~ (RFC 3986 2.3)
  kRegName = 1 << 6,     // unreserved / sub-delims (RFC 3986 3.2.2); '%' is checked apart
  kQdtext = 1 << 7,      // qdtext of quoted-string (RFC 9110 5.6.4)
  kWs = 1 << 8,          // SP, HTAB
  kIpv6 = 1 << 9,        // HEXDIG ':' '.' (inside an IP-literal)
};

constexpr bool in(char c, const char* set) {
  for (; *set != '\0'; ++set)
    if (*set == c) return true;
  return false;
}

constexpr std::array<uint16_t, 256> make_table() {
  std::array<uint16_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const bool alpha = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z');
    const bool digit = i >= '0' && i <= '9';
    const bool vchar = i >= 0x21 && i <= 0x7E;
    const bool hex = digit || (i >= 'a' && i <= 'f') || (i >= 'A' && i <= 'F');
    uint16_t v = 0;
    if (alpha || digit || in(c, "!#$%&'*+-.^_`|~")) v |= kTchar;
    if (vchar || i == ' ' || i == '\t' || i >= 0x80) v |= kFieldChar;
    if (vchar && i != '#') v |= kTarget;
    if (hex) v |= kHex | kIpv6;
    if (digit) v |= kDigit;
    if (alpha || digit || in(c, "-._~")) v |= kUnreserved | kRegName;
    if (in(c, "!$&'()*+,;=")) v |= kRegName;
    if (i == '\t' || i == ' ' || i == 0x21 || (i >= 0x23 && i <= 0x5B) ||
        (i >= 0x5D && i <= 0x7E) || i >= 0x80)
      v |= kQdtext;
    if (i == ' ' || i == '\t') v |= kWs;
    if (i == ':' || i == '.') v |= kIpv6;
    t[static_cast<size_t>(i)] = v;
  }
  return t;
}

inline constexpr std::array<uint16_t, 256> kTable = make_table();

inline bool is(char c, uint16_t cls) {
  return (kTable[static_cast<unsigned char>(c)] & cls) != 0;
}

// Value of a HEXDIG (the caller checked kHex).
inline int hex_value(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

// Value of |c| if it is a HEXDIG, else -1 (percent-decoding checks and decodes at once).
inline int hex_value_or_none(char c) {
  return is(c, kHex) ? hex_value(c) : -1;
}

// Advances p over field-value bytes (kFieldChar) and returns where they stop; eight at a time
// while no byte is a control or DEL. The run must end before `end` (the parsers' final '\n').
inline const char* skip_field_chars(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  while (end - p >= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    const uint64_t del = x ^ (kOnes * 0x7F);
    // Any byte below 0x20, or equal to 0x7F (exact "any" tests; bytes >= 0x80 never match).
    if ((((x - kOnes * 0x20) & ~x) | ((del - kOnes) & ~del)) & kHigh) break;
    p += 8;
  }
  while (is(*p, kFieldChar)) ++p;
  return p;
}

inline char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
}

}  // namespace proxy::http::cc
