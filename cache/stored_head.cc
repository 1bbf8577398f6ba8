// SPDX-License-Identifier: MIT
#include "cache/stored_head.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "cache/object.h"

namespace cache {
namespace {

int32_t clamp32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

}  // namespace
size_t StoredHead::text_size(const ObjectHead& h) {
  return h.fields.size() + h.vary.size() + h.variant.size() + h.tags.size() + h.host.size() +
         h.path.size();
}

StoredHead::StoredHead(const ObjectHead& h, char* text)
    : text_(text),
      body_size_(h.body_size.value_or(0)),
      response_time_(h.freshness.response_time),
      corrected_initial_age_(clamp32(h.freshness.corrected_initial_age)),
      lifetime_(clamp32(h.freshness.lifetime)),
      stale_while_revalidate_(h.freshness.stale_while_revalidate),
      stale_if_error_(h.freshness.stale_if_error),
      status_(static_cast<uint16_t>(h.status)),
      flags_(static_cast<uint8_t>((h.body_size ? kHasBodySize : 0) |
                                  (h.freshness.no_cache ? kNoCache : 0) |
                                  (h.freshness.must_revalidate ? kMustRevalidate : 0) |
                                  (h.freshness.heuristic ? kHeuristic : 0))) {
  const std::string* const parts[kParts] = {&h.fields, &h.vary, &h.variant,
                                            &h.tags,   &h.host, &h.path};
  uint32_t at = 0;
  for (size_t i = 0; i < kParts; ++i) {
    if (!parts[i]->empty()) std::memcpy(text + at, parts[i]->data(), parts[i]->size());
    at += static_cast<uint32_t>(parts[i]->size());
    end_[i] = at;
  }
}

StoredHead::StoredHead(const StoredHead& h, char* text) : StoredHead(h) {
  if (h.text_bytes() > 0) std::memcpy(text, h.text_, h.text_bytes());
  text_ = text;
}

ObjectHead StoredHead::to_owned() const {
  ObjectHead h;
  h.status = status_;
  h.fields = fields();
  h.vary = vary();
  h.variant = variant();
  h.tags = tags();
  h.host = host();
  h.path = path();
  h.freshness = freshness();
  h.body_size = body_size();
  return h;
}

}  // namespace cache
