// SPDX-License-Identifier: MIT
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/http/headers.h"
#include "rules/rule_set.h"

namespace rules::test {

// A client address held by value; parse() takes "1.2.3.4" or "2001:db8::1".
struct Address {
  sockaddr_storage storage{};

  static Address parse(const std::string& text) {
    Address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
    } else {
      a.storage.ss_family = AF_UNIX;
    }
    return a;
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Owns what a RequestView borrows; defaults to "GET example.org /" on listener "web" from
// 192.0.2.1 with no header fields.
struct Request {
  std::string method = "GET";
  std::string host = "example.org";
  std::string path = "/";
  std::string listener = "web";
  Address source = Address::parse("192.0.2.1");
  bool has_source = true;
  proxy::http::HeaderList headers;

  Request& header(std::string_view name, std::string_view value) {
    headers.push(name, value);
    return *this;
  }
  Request& from(const std::string& address) {
    source = Address::parse(address);
    return *this;
  }

  RequestView view() const {
    RequestView v;
    v.method = method;
    v.host = host;
    v.path = path;
    v.headers = &headers;
    v.source = has_source ? source.get() : nullptr;
    v.listener = listener;
    return v;
  }
};

inline conf::Rule rule(std::string name, conf::RuleMatch match = {}) {
  conf::Rule r;
  r.name = std::move(name);
  r.match = std::move(match);
  r.pool = r.name;
  return r;
}

inline conf::Config config(std::initializer_list<conf::Rule> rules) {
  conf::Config c;
  c.rules = rules;
  return c;
}

}  // namespace rules::test
