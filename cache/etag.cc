// SPDX-License-Identifier: MIT
#include "cache/etag.h"

#include "cache/policy_detail.h"

namespace cache {

bool read_entity_tag(std::string_view& s, EntityTag& out) {
  std::string_view t = s;
  while (!t.empty() && detail::is_ws(t.front())) t.remove_prefix(1);
  out.weak = false;
  if (t.size() >= 2 && t[0] == 'W' && t[1] == '/') {
    out.weak = true;
    t.remove_prefix(2);
  }
  if (t.empty() || t.front() != '"') return false;
  const size_t close = t.find('"', 1);
  if (close == std::string_view::npos) return false;
  for (size_t i = 1; i < close; ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c < 0x21 || c == 0x7F) return false;  // etagc = %x21 / %x23-7E / obs-text
  }
  out.opaque = t.substr(0, close + 1);
  s = t.substr(close + 1);
  return true;
}

bool parse_etag(std::string_view value, EntityTag& out) {
  return read_entity_tag(value, out) && detail::trim(value).empty();
}

bool list_matches(std::string_view value, const EntityTag& tag, bool strong) {
  value = detail::trim(value);
  if (value == "*") return true;
  while (true) {
    while (!value.empty() && (detail::is_ws(value.front()) || value.front() == ','))
      value.remove_prefix(1);
    if (value.empty()) return false;
    EntityTag t;
    if (!read_entity_tag(value, t)) return false;
    if (strong ? strong_match(t, tag) : weak_match(t, tag)) return true;
    while (!value.empty() && detail::is_ws(value.front())) value.remove_prefix(1);
    if (!value.empty() && value.front() != ',') return false;
  }
}

}  // namespace cache
