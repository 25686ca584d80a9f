#include "tests/testing/pgbouncer.h"

#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libpq-fe.h"
#include "tests/testing/loopback_port.h"

namespace tasks::testing {
namespace {

constexpr char kBinary[] = "/usr/sbin/pgbouncer";
constexpr char kSystemUser[] = "postgres";
constexpr int kPortAttempts = 5;
constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

// The end of PgBouncer's log, for error messages.
std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::StrCat("(no ", path, ")");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  constexpr size_t kTail = 1500;
  if (text.size() > kTail) text = text.substr(text.size() - kTail);
  return absl::StrCat(path, ":\n", text);
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgBouncer>> PgBouncer::Start(int postgres_port) {
  if (access(kBinary, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kBinary, " not found (", std::strerror(errno),
                     "): install pgbouncer (tools/install_deps.sh does)"));
  }
  std::unique_ptr<PgBouncer> bouncer(new PgBouncer());
  bouncer->postgres_port_ = postgres_port;
  char dir_template[] = "/tmp/pgbXXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create a directory under /tmp: ", std::strerror(errno)));
  }
  bouncer->dir_ = dir_template;
  bouncer->ini_path_ = bouncer->dir_ + "/pgbouncer.ini";
  bouncer->log_path_ = bouncer->dir_ + "/pgbouncer.log";
  absl::Status status = WriteFile(bouncer->dir_ + "/users.txt",
                                  absl::StrCat("\"", kSystemUser, "\" \"\"\n"));
  if (!status.ok()) return status;
  if (geteuid() == 0) {
    // PgBouncer opens its log after switching to the postgres user.
    passwd* user = getpwnam(kSystemUser);
    if (user == nullptr ||
        chown(bouncer->dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot hand ", bouncer->dir_, " to the '", kSystemUser,
          "' user PgBouncer runs as (a sandbox? tag the test \"no-sandbox\")"));
    }
  }
  for (int attempt = 1; attempt <= kPortAttempts; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    bouncer->port_ = *port;
    status = bouncer->Run();
    if (status.ok()) return bouncer;
    if (!absl::StrContains(LogTail(bouncer->log_path_), "in use")) break;
  }
  return status;
}

absl::Status PgBouncer::Run() {
  // Every database of the server under its own name ("*"), and a pool large
  // enough for several stores at once.
  absl::Status status = WriteFile(
      ini_path_,
      absl::StrFormat("[databases]\n"
                      "* = host=127.0.0.1 port=%d user=%s\n"
                      "[pgbouncer]\n"
                      "listen_addr = 127.0.0.1\n"
                      "listen_port = %d\n"
                      "unix_socket_dir =\n"
                      "auth_type = trust\n"
                      "auth_file = %s/users.txt\n"
                      "pool_mode = transaction\n"
                      // Back within a second of the database (default 15 s).
                      "server_login_retry = 1\n"
                      "max_client_conn = 1000\n"
                      "default_pool_size = 20\n"
                      "logfile = %s\n",
                      postgres_port_, kSystemUser, port_, dir_, log_path_));
  if (!status.ok()) return status;
  std::vector<std::string> argv = {kBinary};
  if (geteuid() == 0) argv.insert(argv.end(), {"-u", kSystemUser});
  argv.push_back(ini_path_);
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  const char* dir = dir_.c_str();
  pid_ = fork();
  if (pid_ < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid_ == 0) {
    if (chdir(dir) != 0) _exit(126);
    int in = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (in < 0) _exit(126);
    dup2(in, 0);
    dup2(in, 1);  // the log file has everything
    dup2(in, 2);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  const std::string probe =
      absl::StrFormat("postgresql://%s@127.0.0.1:%d/postgres?connect_timeout=2",
                      kSystemUser, port_);
  const absl::Time deadline = absl::Now() + kStartTimeout;
  while (absl::Now() < deadline) {
    int wait_status = 0;
    if (waitpid(pid_, &wait_status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(kBinary, " exited at start\n", LogTail(log_path_)));
    }
    if (PQping(probe.c_str()) == PQPING_OK) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  Kill();
  return absl::UnavailableError(absl::StrCat(
      "PgBouncer on 127.0.0.1:", port_, " did not answer within ",
      absl::FormatDuration(kStartTimeout), "\n", LogTail(log_path_)));
}

void PgBouncer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + kStopTimeout;
  int wait_status = 0;
  while (waitpid(pid_, &wait_status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wait_status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
}

PgBouncer::~PgBouncer() {
  Kill();
  if (!dir_.empty()) {
    nftw(dir_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
}

absl::StatusOr<std::string> PgBouncer::Route(absl::string_view connection,
                                             int port) {
  std::string conninfo(connection);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse ", connection, ": ", message));
  }
  std::string dbname;
  std::string user = kSystemUser;
  for (PQconninfoOption* option = options; option->keyword != nullptr;
       ++option) {
    if (option->val == nullptr) continue;
    if (absl::string_view(option->keyword) == "dbname") dbname = option->val;
    if (absl::string_view(option->keyword) == "user") user = option->val;
  }
  PQconninfoFree(options);
  return absl::StrFormat("postgresql://%s@127.0.0.1:%d/%s", user, port, dbname);
}

}  // namespace tasks::testing
