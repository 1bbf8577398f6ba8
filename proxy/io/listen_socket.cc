// SPDX-License-Identifier: MIT
#include "proxy/io/listen_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/io/socket_address.h"

namespace proxy::io {
namespace {

// Clears the way for binding a unix socket at `path`: a stale socket file (nobody accepts on it)
// is removed; anything else stays, and the reason is returned.
base::Expected<void, std::string> clear_stale_socket(const sockaddr* addr, socklen_t len,
                                                     const char* path) {
  struct stat st;
  if (::lstat(path, &st) != 0) {
    if (errno == ENOENT) return {};
    return base::unexpected(std::string(strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode))
    return base::unexpected(std::string("the path exists and is not a socket (left as it is)"));
  base::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) return base::unexpected("socket: " + std::string(strerror(errno)));
  if (::connect(probe.get(), addr, len) == 0 || errno == EAGAIN)
    return base::unexpected(std::string("address in use: another process accepts on it"));
  if (errno != ECONNREFUSED) return base::unexpected(std::string(strerror(errno)));
  if (::unlink(path) != 0 && errno != ENOENT)
    return base::unexpected("cannot remove the stale socket: " + std::string(strerror(errno)));
  return {};
}

}  // namespace

base::Expected<ListenSocket, std::string> open_listen_socket(const std::string& name,
                                                             const std::string& address) {
  auto addr = resolve_address(address);
  if (!addr) return base::unexpected("listener " + name + " (" + address + "): " + addr.error());
  int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::unexpected("listener " + name + ": socket: " + strerror(errno));
  ListenSocket ls{name, address, "", base::UniqueFd(fd), "", 0, 0};
  int one = 1;
  if (addr->family() == AF_UNIX) {
    // A stale socket file from an earlier run would make bind fail.
    const auto* un = reinterpret_cast<const sockaddr_un*>(addr->get());
    if (auto ok = clear_stale_socket(addr->get(), addr->length, un->sun_path); !ok)
      return base::unexpected("listener " + name + ": cannot bind " + address + ": " + ok.error());
    ls.unix_path = un->sun_path;
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
  if (!ls.unix_path.empty()) {
    struct stat st;
    if (::stat(ls.unix_path.c_str(), &st) == 0) {
      ls.dev = st.st_dev;
      ls.ino = st.st_ino;
    }
  }
  if (::listen(fd, 4096) != 0) {
    std::string err = strerror(errno);
    if (!ls.unix_path.empty()) {
      std::vector<ListenSocket> one;
      one.push_back(std::move(ls));
      remove_socket_files(one);
    }
    return base::unexpected("listener " + name + ": listen: " + err);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  ls.bound = format_address(reinterpret_cast<sockaddr*>(&ss), len);
  return ls;
}

base::Expected<ListenPlan, std::string> prepare_listen_sockets(
    const conf::Config& config, const std::vector<ListenSocket>& sockets) {
  auto running = [&](const std::string& address) {
    for (const auto& s : sockets)
      if (s.address == address) return true;
    return false;
  };
  // Open every new socket first: if one fails, the running ones are untouched.
  ListenPlan plan;
  for (const auto& l : config.listeners) {
    plan.listeners.emplace_back(l.name, l.address);
    if (running(l.address)) continue;
    auto s = open_listen_socket(l.name, l.address);
    if (!s) {
      remove_socket_files(plan.opened);
      return base::unexpected(s.error());
    }
    plan.opened.push_back(std::move(*s));
  }
  return plan;
}

std::vector<ListenSocket> commit_listen_sockets(ListenPlan&& plan,
                                                std::vector<ListenSocket>& sockets) {
  auto take = [](std::vector<ListenSocket>& from, const std::string& address) -> ListenSocket* {
    for (auto& s : from)
      if (s.fd && s.address == address) return &s;
    return nullptr;
  };
  std::vector<ListenSocket> next;
  for (const auto& [name, address] : plan.listeners) {
    ListenSocket* s = take(sockets, address);
    if (!s) s = take(plan.opened, address);
    if (!s) continue;  // the same address twice: the loader refuses that
    s->name = name;
    next.push_back(std::move(*s));
  }
  std::vector<ListenSocket> dropped;
  for (auto& s : sockets)
    if (s.fd) dropped.push_back(std::move(s));
  sockets = std::move(next);
  return dropped;
}

base::Expected<void, std::string> sync_listen_sockets(const conf::Config& config,
                                                      std::vector<ListenSocket>& sockets) {
  auto plan = prepare_listen_sockets(config, sockets);
  if (!plan) return base::unexpected(plan.error());
  remove_socket_files(commit_listen_sockets(std::move(*plan), sockets));
  return {};
}

void remove_socket_files(const std::vector<ListenSocket>& sockets) {
  for (const auto& s : sockets) {
    if (s.unix_path.empty()) continue;
    struct stat st;
    if (::lstat(s.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s.dev &&
        st.st_ino == s.ino)
      ::unlink(s.unix_path.c_str());
  }
}

}  // namespace proxy::io
