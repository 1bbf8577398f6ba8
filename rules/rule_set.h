// SPDX-License-Identifier: MIT
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "conf/config.h"
#include "proxy/base/expected.h"
#include "proxy/http/headers.h"

namespace rules {

// What a rule sees of a request. Views are borrowed for the duration of one match() call.
struct RequestView {
  std::string_view method;
  std::string_view host;  // without port, lower case not guaranteed
  std::string_view path;  // normalized path, without query
  const proxy::http::HeaderList* headers = nullptr;
  const sockaddr* source = nullptr;  // client address (AF_INET or AF_INET6), may be null
  std::string_view listener;         // listener name
};

// A config's rules compiled once (RE2 programs, parsed CIDRs) and matched many times, from any
// thread: match() is const and allocates nothing.
class RuleSet {
 public:
  // Fails with a message if a regex or CIDR does not compile (the loader has already checked, so
  // this only fails for configs that did not come from it).
  static proxy::base::Expected<std::unique_ptr<RuleSet>, std::string> compile(
      const conf::Config& config);
  ~RuleSet();

  // The first rule whose every match key holds, or nullptr if none does. The returned pointer is
  // into the Config passed to compile(), which must outlive this set.
  const conf::Rule* match(const RequestView& req) const;

 private:
  RuleSet();
  struct Compiled;
  std::unique_ptr<Compiled> impl_;
};

}  // namespace rules
