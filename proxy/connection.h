// SPDX-License-Identifier: MIT
#pragma once

namespace proxy {

// A client connection as its event loop sees it: something to stop gracefully. The loop keeps
// its connections in an intrusive list (no allocation per connection) to drain them.
class Connection {
 public:
  // Graceful stop: close now if idle, else once the requests in flight are answered.
  virtual void drain() = 0;

  Connection* prev = nullptr;
  Connection* next = nullptr;

 protected:
  ~Connection() = default;
};

}  // namespace proxy
