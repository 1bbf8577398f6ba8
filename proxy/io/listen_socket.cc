// SPDX-License-Identifier: MIT
#include "proxy/io/listen_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/io/socket_address.h"

namespace proxy::io {

base::Expected<ListenSocket, std::string> open_listen_socket(const std::string& name,
                                                             const std::string& address) {
  auto addr = resolve_address(address);
  if (!addr) return base::unexpected("listener " + name + " (" + address + "): " + addr.error());
  int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::unexpected("listener " + name + ": socket: " + strerror(errno));
  ListenSocket ls{name, address, "", base::UniqueFd(fd)};
  int one = 1;
  if (addr->family() == AF_UNIX) {
    // A stale socket file from an earlier run would make bind fail.
    const auto* un = reinterpret_cast<const sockaddr_un*>(addr->get());
    ::unlink(un->sun_path);
  } else {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr->family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Wake the worker only when the request has arrived, not at the bare handshake.
    int secs = 5;
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs);
  }
  if (::bind(fd, addr->get(), addr->length) != 0)
    return base::unexpected("listener " + name + ": cannot bind " + address + ": " +
                            strerror(errno));
  if (::listen(fd, 4096) != 0)
    return base::unexpected("listener " + name + ": listen: " + std::string(strerror(errno)));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  ls.bound = format_address(reinterpret_cast<sockaddr*>(&ss), len);
  return ls;
}

base::Expected<void, std::string> sync_listen_sockets(const conf::Config& config,
                                                      std::vector<ListenSocket>& sockets) {
  auto find = [&](const std::string& address) -> ListenSocket* {
    for (auto& s : sockets)
      if (s.address == address) return &s;
    return nullptr;
  };
  // Open every new socket first: if one fails, the running ones are untouched.
  std::vector<ListenSocket> opened;
  for (const auto& l : config.listeners) {
    if (find(l.address)) continue;
    auto s = open_listen_socket(l.name, l.address);
    if (!s) return base::unexpected(s.error());
    opened.push_back(std::move(*s));
  }
  std::vector<ListenSocket> next;
  for (const auto& l : config.listeners) {
    ListenSocket* s = find(l.address);
    if (!s) {
      for (auto& o : opened)
        if (o.address == l.address) s = &o;
    }
    if (!s || !s->fd) continue;  // the same address twice: the loader refuses that
    s->name = l.name;
    next.push_back(std::move(*s));
  }
  sockets = std::move(next);
  return {};
}

}  // namespace proxy::io
