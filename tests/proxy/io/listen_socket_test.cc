// SPDX-License-Identifier: MIT
// Listening sockets opened by the main process and kept across reloads.
#include "proxy/io/listen_socket.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tests/proxy/test_util.h"

using proxy::base::UniqueFd;
using proxy::io::ListenSocket;
using proxy::io::open_listen_socket;
using proxy::io::sync_listen_sockets;
using proxy::test::open_fd_targets;
using proxy::test::TempDir;

namespace {

int port_of(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  REQUIRE(sin.sin_family == AF_INET);
  return ntohs(sin.sin_port);
}

// A blocking connect to 127.0.0.1:port: true if the listener took it.
bool can_connect_tcp(int port) {
  UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(c.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
}

bool can_connect_unix(const std::string& path) {
  UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
  return ::connect(c.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) == 0;
}

// The kernel's identity of the socket behind `fd`, as /proc/self/fd shows it: "socket:[ino]".
std::string socket_id(int fd) {
  struct stat st;
  REQUIRE(::fstat(fd, &st) == 0);
  return "socket:[" + std::to_string(st.st_ino) + "]";
}

bool socket_open(const std::string& id) {
  const auto targets = open_fd_targets();
  return std::find(targets.begin(), targets.end(), id) != targets.end();
}

conf::Config config_with(const std::vector<std::pair<std::string, std::string>>& listeners) {
  conf::Config c;
  int line = 1;
  for (const auto& [name, address] : listeners)
    c.listeners.push_back(conf::Listener{name, address, false, {}, {}, line++});
  return c;
}

const ListenSocket* find(const std::vector<ListenSocket>& v, const std::string& name) {
  for (const auto& s : v)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("a listener on port 0 reports the port it really bound") {
  auto s = open_listen_socket("web", "127.0.0.1:0");
  REQUIRE(s);
  CHECK(s->name == "web");
  CHECK(s->address == "127.0.0.1:0");
  REQUIRE(s->fd);
  const int port = port_of(s->fd.get());
  CHECK(port > 0);
  CHECK(s->bound == "127.0.0.1:" + std::to_string(port));
  CHECK(can_connect_tcp(port));
}

TEST_CASE("a UNIX listener binds its path, replacing a stale socket file") {
  TempDir dir;
  const std::string path = dir.path() + "/gh.sock";
  {
    auto stale = open_listen_socket("old", "unix:" + path);
    REQUIRE(stale);
  }  // closed, the file stays behind
  auto s = open_listen_socket("local", "unix:" + path);
  REQUIRE(s);
  CHECK(s->bound == "unix:" + path);
  CHECK(can_connect_unix(path));
}

TEST_CASE("a listener that cannot bind says which listener and why") {
  auto held = open_listen_socket("held", "127.0.0.1:0");
  REQUIRE(held);
  const std::string taken = "127.0.0.1:" + std::to_string(port_of(held->fd.get()));
  auto s = open_listen_socket("second", taken);
  REQUIRE_FALSE(s);
  CHECK(s.error().find("second") != std::string::npos);
  CHECK(s.error().find(taken) != std::string::npos);

  auto junk = open_listen_socket("junk", "nowhere");
  REQUIRE_FALSE(junk);
  CHECK(junk.error().find("junk") != std::string::npos);
}

TEST_CASE("sync keeps unchanged addresses, opens new ones and closes removed ones") {
  TempDir dir;
  const std::string b_path = dir.path() + "/b.sock", c_path = dir.path() + "/c.sock";
  std::vector<ListenSocket> sockets;
  REQUIRE(
      sync_listen_sockets(config_with({{"a", "127.0.0.1:0"}, {"b", "unix:" + b_path}}), sockets));
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].name == "a");
  CHECK(sockets[1].name == "b");
  const int a_fd = sockets[0].fd.get();
  const std::string a_id = socket_id(a_fd), b_id = socket_id(sockets[1].fd.get());
  const std::string a_bound = sockets[0].bound;
  const int a_port = port_of(a_fd);

  // "a" is renamed but keeps its address; "b" goes; "c" comes.
  REQUIRE(
      sync_listen_sockets(config_with({{"c", "unix:" + c_path}, {"a2", "127.0.0.1:0"}}), sockets));
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].name == "c");
  CHECK(sockets[1].name == "a2");
  const ListenSocket* a = find(sockets, "a2");
  REQUIRE(a);
  CHECK(a->fd.get() == a_fd);  // the same socket: no connection in its queue is lost
  CHECK(socket_id(a->fd.get()) == a_id);
  CHECK(a->bound == a_bound);  // port 0 is not rebound to another port
  CHECK(can_connect_tcp(a_port));
  CHECK_FALSE(socket_open(b_id));
  CHECK_FALSE(can_connect_unix(b_path));
  CHECK(can_connect_unix(c_path));

  // An empty listener list closes everything.
  REQUIRE(sync_listen_sockets(config_with({}), sockets));
  CHECK(sockets.empty());
  CHECK_FALSE(socket_open(a_id));
}

TEST_CASE("a sync that cannot bind a new address leaves the running sockets untouched") {
  TempDir dir;
  auto held = open_listen_socket("held", "127.0.0.1:0");
  REQUIRE(held);
  const std::string taken = "127.0.0.1:" + std::to_string(port_of(held->fd.get()));

  std::vector<ListenSocket> sockets;
  REQUIRE(sync_listen_sockets(config_with({{"a", "127.0.0.1:0"}}), sockets));
  REQUIRE(sockets.size() == 1);
  const int a_fd = sockets[0].fd.get();
  const std::string a_id = socket_id(a_fd);
  const auto before = open_fd_targets().size();

  auto r = sync_listen_sockets(config_with({{"a-renamed", "127.0.0.1:0"},
                                            {"n", "unix:" + dir.path() + "/n.sock"},
                                            {"clash", taken}}),
                               sockets);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("clash") != std::string::npos);
  REQUIRE(sockets.size() == 1);
  CHECK(sockets[0].name == "a");
  CHECK(sockets[0].fd.get() == a_fd);
  CHECK(socket_id(a_fd) == a_id);
  CHECK(can_connect_tcp(port_of(a_fd)));
  CHECK(open_fd_targets().size() == before);  // what was opened for the new config is closed
}

TEST_CASE("a UNIX listener never removes a file that is not a socket") {
  TempDir dir;
  const std::string path = dir.path() + "/data.sock";
  {
    FILE* f = fopen(path.c_str(), "w");
    REQUIRE(f);
    fputs("keep me", f);
    fclose(f);
  }
  auto s = open_listen_socket("local", "unix:" + path);
  REQUIRE_FALSE(s);
  CHECK(s.error().find("local") != std::string::npos);
  CHECK(s.error().find("not a socket") != std::string::npos);
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size == 7);
}

TEST_CASE("a UNIX listener on the path of a live one fails with address in use") {
  TempDir dir;
  const std::string path = dir.path() + "/live.sock";
  auto live = open_listen_socket("first", "unix:" + path);
  REQUIRE(live);
  auto second = open_listen_socket("second", "unix:" + path);
  REQUIRE_FALSE(second);
  CHECK(second.error().find("second") != std::string::npos);
  CHECK(second.error().find("address in use") != std::string::npos);
  CHECK(can_connect_unix(path));  // the first one still has its file
}

TEST_CASE("a UNIX socket file is removed only while it is still ours") {
  TempDir dir;
  const std::string path = dir.path() + "/ours.sock";
  std::vector<ListenSocket> sockets;
  REQUIRE(sync_listen_sockets(config_with({{"a", "unix:" + path}}), sockets));
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);

  SUBCASE("ours: removed") {
    proxy::io::remove_socket_files(sockets);
    CHECK(::lstat(path.c_str(), &st) != 0);
  }
  SUBCASE("replaced by another process's socket: left alone") {
    REQUIRE(::unlink(path.c_str()) == 0);
    auto other = open_listen_socket("other", "unix:" + path);
    REQUIRE(other);
    proxy::io::remove_socket_files(sockets);
    CHECK(can_connect_unix(path));
  }
  SUBCASE("a listener dropped by a sync: removed") {
    REQUIRE(sync_listen_sockets(config_with({}), sockets));
    CHECK(::lstat(path.c_str(), &st) != 0);
  }
}
