// SPDX-License-Identifier: MIT
#include "proxy/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "conf/loader.h"
#include "conf/path_checks.h"
#include "proxy/base/log.h"
#include "proxy/io/listen_socket.h"
#include "proxy/tls_contexts.h"
#include "proxy/worker.h"

namespace proxy {
namespace {

constexpr int kRestartBackoffSeconds = 1;

double monotonic_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

class Supervisor {
 public:
  explicit Supervisor(std::string path) : path_(std::move(path)) {}
  int run();

 private:
  std::shared_ptr<const conf::Config> load();
  // Loads the certificates of |config|; null (logged) if one cannot be used.
  std::shared_ptr<const TlsContexts> load_tls(const conf::Config& config);
  pid_t spawn();
  void reap();
  void reload();
  void stop(int sig);
  void signal_workers(int sig);

  std::string path_;
  std::shared_ptr<const conf::Config> config_;
  WorkerTls tls_;
  std::vector<io::ListenSocket> sockets_;
  sigset_t signals_{};
  pid_t worker_ = -1;
  std::vector<pid_t> retiring_;  // old workers finishing their requests after a reload
  double worker_started_ = 0;
  double restart_at_ = 0;
  bool stopping_ = false;
  int generation_ = 0;
};

std::shared_ptr<const conf::Config> Supervisor::load() {
  conf::LoadResult r = conf::load_file(path_);
  if (r.config) {
    auto certs = check_certificates(*r.config, path_, time(nullptr));
    for (auto& p : conf::check_paths(*r.config, path_)) certs.push_back(std::move(p));
    for (auto& p : certs) {
      if (!p.warning) r.config = nullptr;
      r.problems.push_back(std::move(p));
    }
  }
  for (const auto& p : r.problems) {
    std::string line = conf::format_problem(p);
    if (p.warning)
      LOG_WARN("%s", line.c_str());
    else
      LOG_ERROR("%s", line.c_str());
  }
  return r.config;
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

pid_t Supervisor::spawn() {
  pid_t pid = fork();
  if (pid < 0) {
    LOG_ERROR("cannot start a worker: fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    sigprocmask(SIG_UNBLOCK, &signals_, nullptr);
    _exit(run_worker(config_, tls_, sockets_));
  }
  worker_started_ = monotonic_seconds();
  LOG_INFO("worker %d started (config generation %d)", pid, generation_);
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

void Supervisor::reload() {
  LOG_INFO("reloading %s", path_.c_str());
  auto next = load();
  if (!next) {
    LOG_ERROR("reload refused: %s has errors; the running config keeps serving", path_.c_str());
    return;
  }
  // New handshakes use the new certificates; connections already up keep theirs in the old
  // worker. The ticket keys stay, so sessions resume across the reload.
  auto contexts = load_tls(*next);
  if (!contexts) {
    LOG_ERROR("reload refused: a certificate cannot be used; the running config keeps serving");
    return;
  }
  if (auto ok = io::sync_listen_sockets(*next, sockets_); !ok) {
    LOG_ERROR("reload refused: %s; the running config keeps serving", ok.error().c_str());
    return;
  }
  for (const auto& s : sockets_) LOG_INFO("listening: %s %s", s.name.c_str(), s.bound.c_str());
  config_ = std::move(next);
  tls_.contexts = std::move(contexts);
  ++generation_;
  pid_t old = worker_;
  worker_ = spawn();
  if (old > 0) {
    retiring_.push_back(old);
    kill(old, SIGTERM);
  }
  LOG_INFO("reload: config generation %d serving", generation_);
}

void Supervisor::stop(int sig) {
  if (stopping_) {
    LOG_WARN("second %s: stopping now", sig == SIGINT ? "SIGINT" : "SIGTERM");
    signal_workers(SIGKILL);
    return;
  }
  stopping_ = true;
  LOG_INFO("stopping");
  signal_workers(SIGTERM);
}

int Supervisor::run() {
  base::set_log_process_tag("main");
  config_ = load();
  if (!config_) return 1;
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
  tls_.contexts = load_tls(*config_);
  if (!tls_.contexts) return 1;
  if (auto ok = io::sync_listen_sockets(*config_, sockets_); !ok) {
    LOG_ERROR("%s", ok.error().c_str());
    return 1;
  }
  for (const auto& s : sockets_) LOG_INFO("listening: %s %s", s.name.c_str(), s.bound.c_str());
  if (!config_->pid_file.empty()) {
    if (FILE* f = fopen(config_->pid_file.c_str(), "w")) {
      fprintf(f, "%d\n", getpid());
      fclose(f);
    } else {
      LOG_ERROR("cannot write pid_file %s: %s", config_->pid_file.c_str(), strerror(errno));
    }
  }
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&signals_);
  for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals_, sig);
  sigprocmask(SIG_BLOCK, &signals_, nullptr);

  worker_ = spawn();
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
    if (!stopping_ && worker_ < 0 && monotonic_seconds() >= restart_at_) worker_ = spawn();
  }
  if (!config_->pid_file.empty()) unlink(config_->pid_file.c_str());
  LOG_INFO("stopped");
  return 0;
}

}  // namespace

int run_supervisor(const std::string& config_path) {
  return Supervisor(config_path).run();
}

}  // namespace proxy
