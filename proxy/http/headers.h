// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace proxy::http {

// One header field as received; both views point into the connection's head buffer.
struct Header {
  std::string_view name;
  std::string_view value;  // leading and trailing whitespace removed
};

// ASCII case-insensitive comparison, as field names are compared (RFC 9110 5.1).
bool iequals(std::string_view a, std::string_view b);

// A bounded list of header fields in arrival order. Fixed capacity: no allocation per request.
class HeaderList {
 public:
  static constexpr size_t kCapacity = 128;

  bool push(std::string_view name, std::string_view value) {
    if (size_ == kCapacity) return false;
    items_[size_++] = Header{name, value};
    return true;
  }
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  const Header& operator[](size_t i) const { return items_[i]; }
  const Header* begin() const { return items_.data(); }
  const Header* end() const { return items_.data() + size_; }

  // First field with this name, or nullptr.
  const Header* find(std::string_view name) const;
  size_t count(std::string_view name) const;
  // Drops every field with this name, keeping the others' order.
  void erase(std::string_view name);

 private:
  std::array<Header, kCapacity> items_;
  size_t size_ = 0;
};

// True if the comma-separated list `value` contains `token` (case-insensitive), e.g. a
// Connection header naming "close".
bool list_contains(std::string_view value, std::string_view token);

// Calls f(token) for each element of a comma-separated list, whitespace trimmed, empties skipped.
template <class F>
void for_each_list_item(std::string_view value, F&& f) {
  size_t i = 0;
  while (i <= value.size()) {
    size_t comma = value.find(',', i);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(i, comma - i);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) f(item);
    i = comma + 1;
  }
}

// The options a message's Connection fields name, on every line of them (RFC 9110 7.6.1: the
// list may be split over several field lines; each option names a field that must not be
// forwarded). Found once per message; keeps views into |headers|, allocates nothing.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const HeaderList& headers);
  // True if some Connection line lists |name| (case-insensitive).
  bool lists(std::string_view name) const;

 private:
  const Header* first_ = nullptr;  // the first Connection line, if any
  const Header* end_ = nullptr;    // the end of the list: later lines are searched from first_
  bool several_ = false;
};

// Hop-by-hop fields a proxy never forwards (RFC 9110 7.6.1), plus the legacy ones.
bool is_hop_by_hop(std::string_view name);

}  // namespace proxy::http
