// SPDX-License-Identifier: MIT
#include "proxy/offload/internal_locations.h"

#include "proxy/http/char_class.h"

namespace proxy::offload {
namespace {

// A path the parser left alone needs no second look: no escape, no backslash, no empty or dot
// segment.
bool plain(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%' || c == '\\') return false;
    if (c == '/' && i + 1 < path.size() && (path[i + 1] == '/' || path[i + 1] == '.')) return false;
  }
  return true;
}

}  // namespace

const conf::InternalLocation* find_internal(const conf::Config& config, std::string_view path) {
  for (const auto& loc : config.internal)
    if (path.starts_with(loc.prefix)) return &loc;
  return nullptr;
}

void canonical_client_path(std::string_view path, std::string& out) {
  out.assign(1, '/');
  size_t i = 0;
  while (i < path.size()) {
    // One segment, decoded once, up to a separator (or the end).
    const size_t seg = out.size();
    bool separated = false;
    while (i < path.size()) {
      char c = path[i];
      if (c == '%' && path.size() - i >= 3 && http::cc::is(path[i + 1], http::cc::kHex) &&
          http::cc::is(path[i + 2], http::cc::kHex)) {
        c = static_cast<char>(http::cc::hex_value(path[i + 1]) * 16 +
                              http::cc::hex_value(path[i + 2]));
        i += 3;
      } else {
        ++i;
      }
      if (c == '/' || c == '\\') {
        separated = true;
        break;
      }
      out.push_back(c);
    }
    const std::string_view s(out.data() + seg, out.size() - seg);
    if (s.empty() || s == ".") {
      out.resize(seg);
    } else if (s == "..") {
      out.resize(seg);
      if (out.size() > 1) {
        out.pop_back();  // the slash that ended the segment before
        out.resize(out.rfind('/') + 1);
      }
    } else if (separated) {
      out.push_back('/');
    }
  }
}

bool reaches_internal(const conf::Config& config, std::string_view path) {
  if (config.internal.empty()) return false;
  if (plain(path)) return find_internal(config, path) != nullptr;
  thread_local std::string canonical;  // keeps its allocation from request to request
  canonical_client_path(path, canonical);
  return find_internal(config, canonical) != nullptr;
}

}  // namespace proxy::offload
