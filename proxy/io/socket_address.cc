// SPDX-License-Identifier: MIT
#include "proxy/io/socket_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace proxy::io {

base::Expected<SocketAddress, std::string> resolve_address(std::string_view text) {
  SocketAddress out;
  out.text = std::string(text);
  if (text.substr(0, 5) == "unix:") {
    std::string_view path = text.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof un.sun_path)
      return base::unexpected(std::string("unix socket path is empty or too long"));
    un.sun_family = AF_UNIX;
    memcpy(un.sun_path, path.data(), path.size());
    memcpy(&out.storage, &un, sizeof un);
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return out;
  }
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return base::unexpected(std::string("expected [v6]:port"));
    host = std::string(text.substr(1, close - 1));
    port = std::string(text.substr(close + 2));
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return base::unexpected(std::string("expected host:port"));
    host = std::string(text.substr(0, colon));
    port = std::string(text.substr(colon + 1));
  }
  // getaddrinfo would take "" as 0 and wrap 99999: the port is checked here.
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    return base::unexpected(std::string("expected a port from 0 to 65535"));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {
    hints.ai_flags = AI_NUMERICSERV;  // loopback-only machines: AI_ADDRCONFIG hides ::1
    rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  }
  if (rc != 0 || !res) return base::unexpected(std::string("cannot resolve: ") + gai_strerror(rc));
  memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.length = res->ai_addrlen;
  freeaddrinfo(res);
  return out;
}

namespace {

// Dotted quad by hand: glibc's inet_ntop goes through sprintf, and every exchange formats its
// client's address (logs, X-Forwarded-For).
size_t format_ipv4(const unsigned char* a, char* buf, size_t cap) {
  if (cap < INET_ADDRSTRLEN) return 0;
  char* p = buf;
  for (int i = 0; i < 4; ++i) {
    const unsigned v = a[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    *p++ = i < 3 ? '.' : '\0';
  }
  return static_cast<size_t>(p - buf - 1);
}

}  // namespace

size_t format_ip(const sockaddr* sa, char* buf, size_t cap) {
  buf[0] = '\0';
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return format_ipv4(reinterpret_cast<const unsigned char*>(&in->sin_addr), buf, cap);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
      return format_ipv4(&in6->sin6_addr.s6_addr[12], buf, cap);
    else
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, cap);
  } else if (sa->sa_family == AF_UNIX) {
    snprintf(buf, cap, "unix");
  }
  return strlen(buf);
}

std::string format_address(const sockaddr* sa, socklen_t len) {
  char ip[INET6_ADDRSTRLEN + 8];
  if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    size_t n =
        len > offsetof(sockaddr_un, sun_path) ? strnlen(un->sun_path, sizeof un->sun_path) : 0;
    return "unix:" + std::string(un->sun_path, n);
  }
  format_ip(sa, ip, sizeof ip);
  int port = sa->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port)
                                      : ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  // A v4-mapped address is shown as IPv4 by format_ip, and so without brackets here.
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on string operator+.
  const bool bracket = sa->sa_family == AF_INET6 && strchr(ip, ':');
  std::string out;
  out.reserve(sizeof ip + 8);
  if (bracket) out += '[';
  out += ip;
  if (bracket) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace proxy::io
