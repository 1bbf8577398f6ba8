// SPDX-License-Identifier: MIT
// Entity tags (RFC 9110 8.8.3) and their comparison (8.8.3.2), for conditional requests.
#pragma once

#include <string_view>

namespace cache {

struct EntityTag {
  std::string_view opaque;  // with its quotes
  bool weak = false;
};

// Reads one entity-tag from the front of |s| (after optional whitespace); false if none is
// there. |s| is advanced past it.
bool read_entity_tag(std::string_view& s, EntityTag& out);

// The single entity-tag of an ETag field value, or false if it is not one.
bool parse_etag(std::string_view value, EntityTag& out);

inline bool strong_match(const EntityTag& a, const EntityTag& b) {
  return !a.weak && !b.weak && a.opaque == b.opaque;
}
inline bool weak_match(const EntityTag& a, const EntityTag& b) {
  return a.opaque == b.opaque;
}

// Whether the list |value| ("*" or 1#entity-tag) holds a tag matching |tag| (weakly or
// strongly); "*" matches any. A malformed list matches nothing after the break.
bool list_matches(std::string_view value, const EntityTag& tag, bool strong);

}  // namespace cache
