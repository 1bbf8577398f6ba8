// SPDX-License-Identifier: MIT
#include "conf/path_checks.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "conf/quote.h"

namespace conf {
namespace {

// Whose access counts: this process, or the account the worker switches to.
struct Account {
  std::string name;  // empty: this process
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

std::optional<Account> worker_account(const std::string& user) {
  Account a;
  if (user.empty()) return a;
  passwd* pw = ::getpwnam(user.c_str());
  if (!pw) return std::nullopt;
  if (::geteuid() != 0) return a;  // the worker cannot switch, so it runs as we do
  a.name = user;
  a.uid = pw->pw_uid;
  a.gid = pw->pw_gid;
  int n = 64;
  a.groups.resize(static_cast<size_t>(n));
  while (::getgrouplist(pw->pw_name, pw->pw_gid, a.groups.data(), &n) < 0)
    a.groups.resize(static_cast<size_t>(n));
  a.groups.resize(static_cast<size_t>(n));
  return a;
}

// 0 when |account| may access |path| for |mode| (access(2) bits), else the errno. For another
// account, a child takes its uid and groups (as the worker's initgroups/setgid/setuid do) and asks
// the kernel, so ACLs and read-only mounts count as they will for the worker.
int access_as(const Account& account, const std::string& path, int mode) {
  if (account.name.empty()) return ::access(path.c_str(), mode) == 0 ? 0 : errno;
  pid_t pid = ::fork();
  if (pid < 0) return 0;  // cannot tell; the worker will report it
  if (pid == 0) {
    if (::setgroups(account.groups.size(), account.groups.data()) != 0 ||
        ::setgid(account.gid) != 0 || ::setuid(account.uid) != 0)
      ::_exit(255);
    ::_exit(::access(path.c_str(), mode) == 0 ? 0 : (errno & 0xff));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 255) return 0;
  return WEXITSTATUS(status);
}

std::string who(const Account& account) {
  return account.name.empty() ? "" : "user " + quoted(account.name) + " ";
}

class Checker {
 public:
  Checker(const std::string& file, std::vector<ConfigError>& out) : file_(file), out_(out) {}

  void error(Position at, std::string message) {
    out_.push_back({file_, at.line > 0 ? at.line : 1, at.column > 0 ? at.column : 1,
                    std::move(message), false});
  }

  // |dir| exists and is a directory. Returns false after reporting a problem.
  bool existing_directory(Position at, const std::string& what, const std::string& dir) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      error(at, what + ": directory " + quoted(dir) +
                    (errno == ENOENT ? " does not exist" : ": " + std::string(strerror(errno))));
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      error(at, what + ": " + quoted(dir) + " is not a directory");
      return false;
    }
    return true;
  }

  // A directory that must exist and be writable (files are created in it). Returns false after
  // reporting a problem.
  bool directory(Position at, const std::string& what, const std::string& dir,
                 const Account& account) {
    if (!existing_directory(at, what, dir)) return false;
    return writable(at, what, dir, account, W_OK | X_OK);
  }

  // A directory files are served from: it must exist and the worker must be able to enter it.
  bool readable_directory(Position at, const std::string& what, const std::string& dir,
                          const Account& account) {
    if (!existing_directory(at, what, dir)) return false;
    if (int err = access_as(account, dir, X_OK); err != 0) {
      error(at, what + ": " + who(account) + "cannot enter " + quoted(dir) + ": " + strerror(err));
      return false;
    }
    return true;
  }

  bool writable(Position at, const std::string& what, const std::string& path,
                const Account& account, int mode) {
    int err = access_as(account, path, mode);
    if (err == 0) return true;
    error(at,
          what + ": " + who(account) + "cannot write to " + quoted(path) + ": " + strerror(err));
    return false;
  }

 private:
  const std::string& file_;
  std::vector<ConfigError>& out_;
};

void check_access_log(Checker& c, const AccessLog& log, const Account& account) {
  const std::string& path = log.path;
  if (path.empty() || path == "-" || path == "/dev/stdout" || path == "/dev/stderr") return;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      c.error(log.path_at, "access_log.path: " + quoted(path) + " is a directory");
    else
      c.writable(log.path_at, "access_log.path", path, account, W_OK);  // reopened on USR1
    return;
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  c.directory(log.path_at, "access_log.path", dir, account);
}

}  // namespace

std::vector<ConfigError> check_paths(const Config& config, const std::string& file) {
  std::vector<ConfigError> out;
  Checker c(file, out);
  auto account = worker_account(config.user);
  if (!account) {
    c.error(config.user_at, "user: no such user " + quoted(config.user));
    return out;
  }
  c.directory(config.buffering.temp_path_at, "buffering.temp_path", config.buffering.temp_path,
              *account);
  check_access_log(c, config.access_log, *account);
  for (size_t i = 0; i < config.internal.size(); ++i) {
    const auto& loc = config.internal[i];
    if (!loc.root.empty())
      c.readable_directory(loc.root_at, "internal[" + std::to_string(i) + "].root", loc.root,
                           *account);
  }
  for (size_t i = 0; i < config.sendfile_roots.size(); ++i)
    c.readable_directory(
        i < config.sendfile_roots_at.size() ? config.sendfile_roots_at[i] : Position{},
        "sendfile_roots[" + std::to_string(i) + "]", config.sendfile_roots[i], *account);
  for (const auto& rule : config.rules)
    if (!rule.static_root.empty())
      c.readable_directory(rule.static_root_at, "rule " + quoted(rule.name) + ": static.root",
                           rule.static_root, *account);
  for (const auto& rule : config.rules)
    if (rule.upload_offload)
      c.directory(rule.upload_offload->dir_at, "upload_offload.dir", rule.upload_offload->dir,
                  *account);
  return out;
}

}  // namespace conf
