// SPDX-License-Identifier: MIT
// Requests and responses for the policy tests: heads whose field views point into storage the
// helper owns.
#pragma once

#include <deque>
#include <initializer_list>
#include <string>
#include <utility>

#include "cache/freshness.h"
#include "cache/http_date.h"
#include "proxy/http/message.h"

namespace cache::test {

using Fields = std::initializer_list<std::pair<std::string, std::string>>;

// An arbitrary "now" (2023-11-14T22:13:20Z) that every test measures from.
inline constexpr UnixTime kNow = 1700000000;

inline std::string date(UnixTime t) {
  return format_http_date(t);
}

class Fieldset {
 public:
  void add(proxy::http::HeaderList& h, std::string name, std::string value) {
    text_.push_back(std::move(name));
    const std::string& n = text_.back();
    text_.push_back(std::move(value));
    h.push(n, text_.back());
  }

 private:
  std::deque<std::string> text_;  // stable addresses as it grows
};

struct Resp {
  Fieldset text;
  proxy::http::ResponseHead head;
  explicit Resp(int status, Fields f = {}) {
    head.status = status;
    for (const auto& [n, v] : f) add(n, v);
  }
  Resp& add(std::string n, std::string v) {
    text.add(head.headers, std::move(n), std::move(v));
    return *this;
  }
  const proxy::http::HeaderList& headers() const { return head.headers; }
};

struct Req {
  Fieldset text;
  proxy::http::RequestHead head;
  explicit Req(Fields f = {}, proxy::http::Method m = proxy::http::Method::kGet) {
    head.method = m;
    for (const auto& [n, v] : f) add(n, v);
  }
  Req& add(std::string n, std::string v) {
    text.add(head.headers, std::move(n), std::move(v));
    return *this;
  }
};

struct Headers {
  Fieldset text;
  proxy::http::HeaderList list;
  explicit Headers(Fields f = {}) {
    for (const auto& [n, v] : f) text.add(list, n, v);
  }
};

}  // namespace cache::test
