// SPDX-License-Identifier: MIT
#include "proxy/reload_in_place.h"

#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/base/unique_fd.h"
#include "proxy/reload_channel.h"
#include "proxy/tls_contexts.h"

namespace proxy {
namespace {

// The access log for the worker, opened here: the worker may have dropped the rights to. Never
// blocks (a FIFO nobody reads is an error, not a hang of the main process); a file made here as
// root is given to the worker's `user:` so that it can reopen it at USR1.
base::Expected<std::unique_ptr<AccessLog>, std::string> open_access_log(
    const conf::Config& config) {
  const std::string& path = config.access_log.path;
  const auto format = AccessLog::format_named(config.access_log.format);
  auto log = std::make_unique<AccessLog>();
  if (path == "-" || path == "/dev/stdout" || path == "/dev/stderr" ||
      path.starts_with("/proc/self/fd/")) {
    if (!log->open(path, format))
      return base::unexpected("cannot open access log " + path + ": " + strerror(errno));
  } else {
    base::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644));
    if (!fd) return base::unexpected("cannot open access log " + path + ": " + strerror(errno));
    const int flags = fcntl(fd.get(), F_GETFL);
    if (flags >= 0) fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    log->adopt(path, format, std::move(fd));
  }
  if (!config.user.empty() && geteuid() == 0)
    if (const passwd* pw = getpwnam(config.user.c_str())) log->give_to(pw->pw_uid, pw->pw_gid);
  return log;
}

}  // namespace

std::string reload_in_place(int channel, const InPlaceReload& r, std::chrono::milliseconds bound,
                            bool& channel_lost) {
  channel_lost = false;
  ReloadOrder order;
  order.generation = r.generation;
  order.config_name = r.path;
  order.config_text = r.text;
  order.addresses = *r.addresses;
  auto files = read_tls_files(*r.config);
  if (!files) return files.error();
  order.tls_files = std::move(*files);
  std::vector<int> fds;
  for (const auto& [name, address] : r.plan->listeners) {
    ReloadOrder::Listener l{name, address, -1};
    for (const auto& s : r.plan->opened)
      if (s.address == address) {
        l.fd = static_cast<int>(fds.size());
        fds.push_back(s.fd.get());
      }
    order.listeners.push_back(std::move(l));
  }
  std::unique_ptr<AccessLog> log;
  if (!r.config->access_log.path.empty()) {
    auto opened = open_access_log(*r.config);
    if (!opened) return opened.error();
    log = std::move(*opened);
    order.access_log_fd = static_cast<int>(fds.size());
    fds.push_back(log->fd());
  }
  std::string bytes = encode(order);
  const bool sent = send_message(channel, bytes, fds);
  const int err = errno;
  explicit_bzero(bytes.data(), bytes.size());  // it holds the private keys
  if (!sent) {
    channel_lost = true;
    return std::string("cannot send it to the worker: ") + strerror(err);
  }
  auto answer = receive_message(channel, static_cast<int>(bound.count()));
  if (!answer) {
    channel_lost = true;
    if (answer.error() == "no answer in time")
      return "the worker did not answer within " + std::to_string(bound.count() / 1000) + "s";
    return "no answer from the worker: " + answer.error();
  }
  if (answer->bytes == kReloadReady) return {};
  return answer->bytes.empty() ? std::string("the worker refused it") : answer->bytes;
}

}  // namespace proxy
