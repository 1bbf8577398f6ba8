// SPDX-License-Identifier: MIT
#include "proxy/http/headers.h"

#include "proxy/http/char_class.h"

namespace proxy::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (cc::to_lower(a[i]) != cc::to_lower(b[i])) return false;
  return true;
}

const Header* HeaderList::find(std::string_view name) const {
  for (const Header& h : *this)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

void HeaderList::erase(std::string_view name) {
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i)
    if (!iequals(items_[i].name, name)) items_[kept++] = items_[i];
  size_ = kept;
}

size_t HeaderList::count(std::string_view name) const {
  size_t n = 0;
  for (const Header& h : *this)
    if (iequals(h.name, name)) ++n;
  return n;
}

bool list_contains(std::string_view value, std::string_view token) {
  bool found = false;
  for_each_list_item(value, [&](std::string_view item) { found = found || iequals(item, token); });
  return found;
}

bool is_hop_by_hop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return iequals(name, "TE");
    case 7:
      return iequals(name, "Trailer") || iequals(name, "Upgrade");
    case 10:
      return iequals(name, "Connection") || iequals(name, "Keep-Alive");
    case 16:
      return iequals(name, "Proxy-Connection");
    case 17:
      return iequals(name, "Transfer-Encoding");
    case 18:
      return iequals(name, "Proxy-Authenticate");
    case 19:
      return iequals(name, "Proxy-Authorization");
    default:
      return false;
  }
}

ConnectionOptions::ConnectionOptions(const HeaderList& headers) : end_(headers.end()) {
  for (const Header& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    if (first_) {
      several_ = true;
      break;
    }
    first_ = &h;
  }
}

bool ConnectionOptions::lists(std::string_view name) const {
  if (!first_) return false;
  if (!several_) return list_contains(first_->value, name);
  for (const Header* h = first_; h != end_; ++h)
    if (iequals(h->name, "connection") && list_contains(h->value, name)) return true;
  return false;
}

}  // namespace proxy::http
