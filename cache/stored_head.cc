// SPDX-License-Identifier: MIT
#include "cache/stored_head.h"

#include <cstring>
#include <string>

#include "cache/object.h"

namespace cache {
size_t StoredHead::text_size(const ObjectHead& h) {
  return h.fields.size() + h.vary.size() + h.variant.size() + h.tags.size() + h.host.size() +
         h.path.size();
}

StoredHead::StoredHead(const ObjectHead& h, char* text)
    : text_(text),
      freshness_(h.freshness),
      body_size_(h.body_size.value_or(0)),
      status_(static_cast<uint16_t>(h.status)),
      has_body_size_(h.body_size.has_value()) {
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
  h.freshness = freshness_;
  h.body_size = body_size();
  return h;
}

}  // namespace cache
