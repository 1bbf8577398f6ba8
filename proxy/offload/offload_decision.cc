// SPDX-License-Identifier: MIT
#include "proxy/offload/offload_decision.h"

#include <charconv>

namespace proxy::offload {
namespace {

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool kept_field(std::string_view name) {
  using http::iequals;
  return iequals(name, "content-disposition") || iequals(name, "cache-control") ||
         iequals(name, "expires") || iequals(name, "set-cookie") || iequals(name, "accept-ranges");
}

bool control_field(std::string_view name) {
  return (name.size() > 8 && http::iequals(name.substr(0, 8), "x-accel-")) ||
         http::iequals(name, "x-sendfile");
}

std::optional<int64_t> parse_accel_expires(std::string_view value, int64_t now) {
  if (!value.empty() && value.front() == '@') {
    auto at = number<int64_t>(value.substr(1));
    if (!at || *at < 0) return std::nullopt;
    return *at > now ? *at - now : 0;
  }
  auto seconds = number<int64_t>(value);
  if (!seconds || *seconds < 0) return std::nullopt;
  return *seconds;
}

std::optional<uint64_t> parse_limit_rate(std::string_view value) {
  return number<uint64_t>(value);
}

bool OffloadDecision::read(const http::HeaderList& fields, int64_t now) {
  clear();
  std::string_view sendfile;
  for (const auto& f : fields) {
    const std::string_view n = f.name;
    if (http::iequals(n, "x-accel-redirect")) {
      if (target.empty()) target = f.value;
    } else if (http::iequals(n, "x-sendfile")) {
      if (sendfile.empty()) sendfile = f.value;
    } else if (http::iequals(n, "content-type")) {
      if (content_type.empty()) content_type = f.value;
    } else if (http::iequals(n, "etag")) {
      if (etag.empty()) etag = f.value;
    } else if (http::iequals(n, "last-modified")) {
      if (last_modified.empty()) last_modified = f.value;
    } else if (http::iequals(n, "x-accel-charset")) {
      charset = f.value;
    } else if (http::iequals(n, "x-accel-limit-rate")) {
      if (auto r = parse_limit_rate(f.value)) limit_rate = *r;
    } else if (http::iequals(n, "x-accel-expires")) {
      if (auto e = parse_accel_expires(f.value, now)) {
        has_expires = true;
        expires = *e;
      }
    } else if (kept_field(n)) {
      kept.push(f.name, f.value);
    }
  }
  if (!target.empty())
    kind = Kind::kAccel;
  else if (!sendfile.empty()) {
    kind = Kind::kSendfile;
    target = sendfile;
  }
  if (kind == Kind::kNone) clear();
  return kind != Kind::kNone;
}

void OffloadDecision::own() {
  // One allocation (kept from exchange to exchange): the views move once it is sized.
  size_t total =
      target.size() + content_type.size() + etag.size() + last_modified.size() + charset.size();
  for (const auto& f : kept) total += f.name.size() + f.value.size();
  storage.clear();
  storage.reserve(total);
  auto copy = [this](std::string_view& v) {
    const size_t at = storage.size();
    storage.append(v);
    v = std::string_view(storage.data() + at, v.size());
  };
  copy(target);
  copy(content_type);
  copy(etag);
  copy(last_modified);
  copy(charset);
  http::HeaderList fields = kept;
  kept.clear();
  for (auto f : fields) {
    copy(f.name);
    copy(f.value);
    kept.push(f.name, f.value);
  }
}

void OffloadDecision::clear() {
  kind = Kind::kNone;
  target = content_type = etag = last_modified = charset = {};
  kept.clear();
  limit_rate = 0;
  has_expires = false;
  expires = 0;
}

SplitTarget split_target(std::string_view target) {
  SplitTarget out;
  const size_t q = target.find('?');
  out.path = target.substr(0, q);
  out.has_query = q != std::string_view::npos;
  if (out.has_query) out.query = target.substr(q + 1);
  return out;
}

}  // namespace proxy::offload
