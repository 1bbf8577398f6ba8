// SPDX-License-Identifier: MIT
#include "proxy/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "conf/loader.h"
#include "conf/path_checks.h"
#include "proxy/base/log.h"
#include "proxy/io/listen_socket.h"
#include "proxy/reload_channel.h"
#include "proxy/reload_in_place.h"
#include "proxy/server_addresses.h"
#include "proxy/tls_contexts.h"
#include "proxy/worker.h"
#include "proxy/worker_ready.h"
#include "proxy/worker_reload.h"

namespace proxy {
namespace {

constexpr int kRestartBackoffSeconds = 1;
// How long a new worker has to report that it serves, and the running one to answer a reload.
constexpr std::chrono::seconds kReadyBound{10};
// A worker restarted after a crash that cannot start is retried after 1, 2 and 4 s; then
// gatehouse stops (exit 1) rather than keep its ports open with nobody serving.
constexpr int kMaxStartFailures = 4;

double monotonic_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return "SIGTERM";
  }
}

// What a worker serves: a config, its servers' addresses (resolved here) and its certificates.
struct Generation {
  std::shared_ptr<const conf::Config> config;
  std::shared_ptr<const ServerAddresses> addresses;
  std::shared_ptr<const TlsContexts> contexts;
  int number = 0;
};

class Supervisor {
 public:
  explicit Supervisor(std::string path) : path_(std::move(path)) {}
  int run();

 private:
  // Loads the file and resolves its servers; false (problems logged) if it cannot be served.
  // |text| non-null: gets the file's contents.
  bool load(Generation& out, std::string* text = nullptr);
  // Loads the certificates of |config|; null (logged) if one cannot be used.
  std::shared_ptr<const TlsContexts> load_tls(const conf::Config& config);
  // Forks a worker serving |gen| on sockets_ (with |plan| applied, for a reload) and waits until
  // it serves. Returns its pid and its reload channel, or -1 with |reason| (the worker is gone
  // by then).
  pid_t start_worker(const Generation& gen, io::ListenPlan* plan, std::string& reason,
                     base::UniqueFd& channel);
  void reap();
  void reload();
  // The reload's last step: the new generation serves (in the running worker or a new one).
  void commit(Generation&& next, io::ListenPlan&& plan);
  void write_pid_file();
  void restart();
  void stop(int sig);
  void signal_workers(int sig);
  void clean_up();

  std::string path_;
  Generation serving_;
  WorkerTls tls_;  // the ticket keys and schedule; contexts are per generation
  std::vector<io::ListenSocket> sockets_;
  sigset_t signals_{};
  pid_t worker_ = -1;
  // The worker's reload channel; not trusted any more (a reload that got no answer): the next
  // reload starts a new worker.
  base::UniqueFd channel_;
  bool channel_lost_ = false;
  std::vector<pid_t> retiring_;  // old workers finishing their requests after a reload
  double worker_started_ = 0;
  double restart_at_ = 0;
  int start_failures_ = 0;  // consecutive restarts that could not start
  bool stopping_ = false;
  bool gave_up_ = false;
};

bool Supervisor::load(Generation& out, std::string* text) {
  conf::LoadResult r = conf::load_file(path_, text);
  if (r.config) {
    auto certs = check_certificates(*r.config, path_, time(nullptr));
    for (auto& p : conf::check_paths(*r.config, path_)) certs.push_back(std::move(p));
    for (auto& p : certs) {
      if (!p.warning) r.config = nullptr;
      r.problems.push_back(std::move(p));
    }
  }
  ServerResolution resolved;
  if (r.config) {
    resolved = resolve_servers(*r.config, io::resolve_address);
    if (!resolved.addresses) r.config = nullptr;
    for (auto& p : resolved.problems) r.problems.push_back(std::move(p));
  }
  for (const auto& p : r.problems) {
    std::string line = conf::format_problem(p);
    if (p.warning)
      LOG_WARN("%s", line.c_str());
    else
      LOG_ERROR("%s", line.c_str());
  }
  if (!r.config) return false;
  out.config = std::move(r.config);
  out.addresses = std::make_shared<const ServerAddresses>(std::move(*resolved.addresses));
  return true;
}

std::shared_ptr<const TlsContexts> Supervisor::load_tls(const conf::Config& config) {
  auto contexts = build_tls_contexts(config, time(nullptr), tls_.keys);
  if (!contexts) {
    LOG_ERROR("%s", contexts.error().c_str());
    return nullptr;
  }
  for (const auto& w : (*contexts)->warnings) LOG_WARN("%s", w.c_str());
  return std::move(*contexts);
}

pid_t Supervisor::start_worker(const Generation& gen, io::ListenPlan* plan, std::string& reason,
                               base::UniqueFd& channel) {
  ReadyPipe ready;
  if (!ReadyPipe::open(ready)) {
    reason = std::string("pipe: ") + strerror(errno);
    return -1;
  }
  ReloadChannel ch;
  if (!ReloadChannel::open(ch)) {
    reason = std::string("socketpair: ") + strerror(errno);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    reason = std::string("fork: ") + strerror(errno);
    return -1;
  }
  if (pid == 0) {
    ready.read.reset();
    ch.main.reset();
    channel_.reset();  // the running worker's: its end of file must reach that worker alone
    sigprocmask(SIG_UNBLOCK, &signals_, nullptr);
    // The sockets the reload drops are closed here only; the main process keeps them until the
    // new worker is known to serve.
    if (plan) io::commit_listen_sockets(std::move(*plan), sockets_);
    WorkerTls tls = tls_;
    tls.contexts = gen.contexts;
    _exit(run_worker(gen.config, *gen.addresses, tls, std::move(sockets_), std::move(ready.write),
                     std::move(ch.worker), gen.number));
  }
  ready.write.reset();
  ch.worker.reset();
  LOG_INFO("worker %d started (config generation %d)", pid, gen.number);
  reason = wait_ready(ready.read, pid, kReadyBound);
  if (!reason.empty()) return -1;
  worker_started_ = monotonic_seconds();
  channel = std::move(ch.main);
  return pid;
}

void Supervisor::signal_workers(int sig) {
  if (worker_ > 0) kill(worker_, sig);
  for (pid_t p : retiring_) kill(p, sig);
}

void Supervisor::reap() {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    std::erase(retiring_, pid);
    if (pid != worker_) continue;
    worker_ = -1;
    channel_.reset();
    channel_lost_ = false;
    if (stopping_) continue;
    if (WIFSIGNALED(status))
      LOG_ERROR("worker %d killed by signal %d; starting a new one", pid, WTERMSIG(status));
    else
      LOG_ERROR("worker %d exited with status %d; starting a new one", pid, WEXITSTATUS(status));
    // A worker that dies at once would otherwise be restarted in a tight loop.
    double now = monotonic_seconds();
    restart_at_ =
        now - worker_started_ < kRestartBackoffSeconds ? now + kRestartBackoffSeconds : now;
  }
}

void Supervisor::restart() {
  // The serving config again, with its host names looked up anew (a failed lookup keeps the
  // address it had).
  if (has_host_names(*serving_.config)) {
    auto r = refresh_servers(*serving_.config, *serving_.addresses, io::resolve_address);
    for (const auto& w : r.warnings) LOG_WARN("%s", w.c_str());
    if (r.changed) serving_.addresses = std::make_shared<const ServerAddresses>(r.addresses);
  }
  std::string reason;
  worker_ = start_worker(serving_, nullptr, reason, channel_);
  if (worker_ > 0) {
    start_failures_ = 0;
    return;
  }
  if (++start_failures_ >= kMaxStartFailures) {
    LOG_ERROR("a new worker cannot start: %s; giving up after %d attempts: stopping",
              reason.c_str(), start_failures_);
    gave_up_ = stopping_ = true;
    signal_workers(SIGTERM);
    return;
  }
  const int backoff = kRestartBackoffSeconds << (start_failures_ - 1);
  LOG_ERROR("a new worker cannot start: %s; trying again in %ds", reason.c_str(), backoff);
  restart_at_ = monotonic_seconds() + backoff;
}

void Supervisor::reload() {
  LOG_INFO("reloading %s", path_.c_str());
  Generation next;
  std::string text;
  if (!load(next, &text)) {
    LOG_ERROR("reload refused: %s has errors; the running config keeps serving", path_.c_str());
    return;
  }
  // The certificates are checked here, and kept for a new worker (after a crash, or below).
  next.contexts = load_tls(*next.config);
  if (!next.contexts) {
    LOG_ERROR("reload refused: a certificate cannot be used; the running config keeps serving");
    return;
  }
  auto plan = io::prepare_listen_sockets(*next.config, sockets_);
  if (!plan) {
    LOG_ERROR("reload refused: %s; the running config keeps serving", plan.error().c_str());
    return;
  }
  next.number = serving_.number + 1;
  // In place when the worker can: it keeps its process, connections and caches. Committed only
  // once it serves: until then the old config serves, and is the one restarted after a crash.
  std::string why = needs_new_worker(*serving_.config, *next.config);
  if (why.empty() && (worker_ < 0 || !channel_)) why = "no worker is running";
  if (why.empty() && channel_lost_) why = "the worker did not answer the last reload";
  if (why.empty()) {
    InPlaceReload r{next.number,          path_, std::move(text), next.config.get(),
                    next.addresses.get(), &*plan};
    std::string reason = reload_in_place(channel_.get(), r, kReadyBound, channel_lost_);
    if (!reason.empty()) {
      io::remove_socket_files(plan->opened);
      LOG_ERROR("reload failed: the worker cannot serve it: %s; config generation %d keeps serving",
                reason.c_str(), serving_.number);
      return;
    }
    commit(std::move(next), std::move(*plan));
    return;
  }
  // A new worker takes over; the old one finishes its requests. The ticket keys stay, so
  // sessions resume across the reload.
  LOG_INFO("reload: starting a new worker: %s", why.c_str());
  std::string reason;
  base::UniqueFd channel;
  pid_t pid = start_worker(next, &*plan, reason, channel);
  if (pid < 0) {
    io::remove_socket_files(plan->opened);
    LOG_ERROR("reload failed: the new worker cannot start: %s; config generation %d keeps serving",
              reason.c_str(), serving_.number);
    return;
  }
  pid_t old = worker_;
  worker_ = pid;
  channel_ = std::move(channel);
  channel_lost_ = false;
  if (old > 0) {
    retiring_.push_back(old);
    kill(old, SIGTERM);
  }
  commit(std::move(next), std::move(*plan));
}

void Supervisor::commit(Generation&& next, io::ListenPlan&& plan) {
  io::remove_socket_files(io::commit_listen_sockets(std::move(plan), sockets_));
  for (const auto& s : sockets_) LOG_INFO("listening: %s %s", s.name.c_str(), s.bound.c_str());
  const std::string old_pid_file = serving_.config->pid_file;
  serving_ = std::move(next);
  start_failures_ = 0;
  if (serving_.config->pid_file != old_pid_file) {
    if (!old_pid_file.empty()) unlink(old_pid_file.c_str());
    write_pid_file();
  }
  LOG_INFO("reload: config generation %d serving", serving_.number);
}

void Supervisor::write_pid_file() {
  const std::string& pid_file = serving_.config->pid_file;
  if (pid_file.empty()) return;
  if (FILE* f = fopen(pid_file.c_str(), "w")) {
    fprintf(f, "%d\n", getpid());
    fclose(f);
  } else {
    LOG_ERROR("cannot write pid_file %s: %s", pid_file.c_str(), strerror(errno));
  }
}

void Supervisor::stop(int sig) {
  if (stopping_) {
    LOG_WARN("second %s: stopping now", signal_name(sig));
    signal_workers(SIGKILL);
    return;
  }
  stopping_ = true;
  LOG_INFO("stopping");
  signal_workers(SIGTERM);
}

void Supervisor::clean_up() {
  io::remove_socket_files(sockets_);
  sockets_.clear();
  if (serving_.config && !serving_.config->pid_file.empty())
    unlink(serving_.config->pid_file.c_str());
}

int Supervisor::run() {
  base::set_log_process_tag("main");
  if (!load(serving_)) return 1;
  tls_.schedule = tls::TicketSchedule::random(tls::kTicketPeriodSeconds);
  if (!tls_.schedule) {
    LOG_ERROR("cannot make the session ticket secret: the random generator failed");
    return 1;
  }
  tls_.keys = std::make_shared<tls::TicketKeys>(tls::TicketKey{}, std::nullopt);
  if (!tls_.schedule->apply(*tls_.keys, time(nullptr))) {
    LOG_ERROR("cannot derive the session ticket keys");
    return 1;
  }
  serving_.contexts = load_tls(*serving_.config);
  if (!serving_.contexts) return 1;
  if (auto ok = io::sync_listen_sockets(*serving_.config, sockets_); !ok) {
    LOG_ERROR("%s", ok.error().c_str());
    return 1;
  }
  for (const auto& s : sockets_) LOG_INFO("listening: %s %s", s.name.c_str(), s.bound.c_str());
  write_pid_file();
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&signals_);
  for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2})
    sigaddset(&signals_, sig);
  sigprocmask(SIG_BLOCK, &signals_, nullptr);

  std::string reason;
  worker_ = start_worker(serving_, nullptr, reason, channel_);
  if (worker_ < 0) {
    LOG_ERROR("cannot start: %s", reason.c_str());
    clean_up();
    return 1;
  }
  for (;;) {
    siginfo_t info;
    timespec tick{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&signals_, &info, &tick);
    switch (sig) {
      case SIGCHLD:
        reap();
        break;
      case SIGHUP:
        if (!stopping_) reload();
        break;
      case SIGTERM:
      case SIGINT:
      case SIGQUIT:
        stop(sig);
        break;
      case SIGUSR1:
        signal_workers(SIGUSR1);
        break;
      case SIGUSR2:
        LOG_WARN("SIGUSR2 (binary upgrade) is not supported yet");
        break;
      default:
        break;
    }
    if (stopping_ && worker_ < 0 && retiring_.empty()) break;
    if (!stopping_ && worker_ < 0 && monotonic_seconds() >= restart_at_) restart();
  }
  clean_up();
  LOG_INFO("stopped");
  return gave_up_ ? 1 : 0;
}

}  // namespace

int run_supervisor(const std::string& config_path) {
  return Supervisor(config_path).run();
}

}  // namespace proxy
