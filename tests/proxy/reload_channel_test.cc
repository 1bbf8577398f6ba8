// SPDX-License-Identifier: MIT
// The reload order between the main process and its worker: its encoding, and descriptors passed
// beside it.
#include "proxy/reload_channel.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

using proxy::ChannelMessage;
using proxy::ReloadChannel;
using proxy::ReloadOrder;

namespace {

ReloadOrder sample() {
  ReloadOrder o;
  o.generation = 7;
  o.config_name = "/etc/gatehouse/gatehouse.yaml";
  o.config_text = "listeners: []\n";
  auto a = proxy::io::resolve_address("127.0.0.1:8080");
  auto b = proxy::io::resolve_address("[::1]:9090");
  REQUIRE(a);
  REQUIRE(b);
  o.addresses.by_pool = {{*a, *b}, {}};
  o.tls_files["/k.pem"] = {'k', 0, 'y'};
  o.listeners = {{"http", "127.0.0.1:0", -1}, {"https", "127.0.0.1:443", 0}};
  o.access_log_fd = 1;
  return o;
}

ino_t inode(int fd) {
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("a reload order decodes to what was encoded, its descriptors beside it") {
  ReloadChannel ch;
  REQUIRE(ReloadChannel::open(ch));
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const ReloadOrder sent = sample();
  REQUIRE(proxy::send_message(ch.main.get(), proxy::encode(sent), {pipe_fds[0], pipe_fds[1]}));
  auto got = proxy::receive_message(ch.worker.get(), 1000);
  REQUIRE(got);
  REQUIRE(got->fds.size() == 2);
  CHECK(inode(got->fds[0].get()) == inode(pipe_fds[0]));
  CHECK((fcntl(got->fds[1].get(), F_GETFD) & FD_CLOEXEC) != 0);
  auto order = proxy::decode(std::move(*got));
  REQUIRE(order);
  CHECK(order->generation == 7);
  CHECK(order->config_name == sent.config_name);
  CHECK(order->config_text == sent.config_text);
  REQUIRE(order->addresses.by_pool.size() == 2);
  REQUIRE(order->addresses.by_pool[0].size() == 2);
  CHECK(proxy::same_address(order->addresses.by_pool[0][1], sent.addresses.by_pool[0][1]));
  CHECK(order->addresses.by_pool[0][1].text == "[::1]:9090");
  CHECK(order->addresses.by_pool[1].empty());
  CHECK(order->tls_files == sent.tls_files);
  REQUIRE(order->listeners.size() == 2);
  CHECK(order->listeners[1].name == "https");
  CHECK(order->listeners[1].fd == 0);
  CHECK(order->listeners[0].fd == -1);
  CHECK(order->access_log_fd == 1);
  CHECK(order->fds.size() == 2);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_CASE("a large message arrives whole while the peer reads it") {
  ReloadChannel ch;
  REQUIRE(ReloadChannel::open(ch));
  std::string big(3 << 20, 'x');
  std::thread sender([&] { CHECK(proxy::send_message(ch.main.get(), big)); });
  auto got = proxy::receive_message(ch.worker.get(), 5000);
  sender.join();
  REQUIRE(got);
  CHECK(got->bytes == big);
}

TEST_CASE("an order naming a descriptor it did not carry is refused") {
  ReloadOrder o = sample();
  ChannelMessage m;
  m.bytes = proxy::encode(o);
  m.fds.emplace_back(dup(0));  // the listener's index 0 is there, the access log's 1 is not
  auto order = proxy::decode(std::move(m));
  CHECK(!order);
}

TEST_CASE("a truncated order is refused") {
  ChannelMessage m;
  m.bytes = proxy::encode(sample());
  m.bytes.resize(m.bytes.size() - 3);
  CHECK(!proxy::decode(std::move(m)));
}

TEST_CASE("receiving reports the peer gone and a missing answer") {
  ReloadChannel ch;
  REQUIRE(ReloadChannel::open(ch));
  auto none = proxy::receive_message(ch.worker.get(), 50);
  REQUIRE(!none);
  CHECK(none.error() == "no answer in time");
  ch.main.reset();
  auto closed = proxy::receive_message(ch.worker.get(), 1000);
  REQUIRE(!closed);
  CHECK(closed.error() == "closed");
}
