#include "tests/testing/postgres_server.h"

#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libpq-fe.h"
#include "tests/testing/loopback_port.h"

namespace tasks::testing {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kInstallHint[] =
    "install postgresql-15 (tools/install_deps.sh does), or set "
    "TASKS_TEST_POSTGRES_URL to an existing server";
constexpr char kSystemUser[] = "postgres";
constexpr int kStartTimeoutSeconds = 30;
constexpr int kPortAttempts = 5;

std::string ErrnoText(int error) { return std::strerror(error); }

std::string BinPath(absl::string_view tool) {
  return absl::StrCat(kBinDir, "/", tool);
}

// The last `max_lines` lines of a file, for error messages.
std::string Tail(const std::string& path, int max_lines = 15) {
  std::ifstream in(path);
  if (!in) return absl::StrCat("(no ", path, ")");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<std::string> lines =
      absl::StrSplit(buffer.str(), '\n', absl::SkipEmpty());
  if (static_cast<int>(lines.size()) > max_lines) {
    lines.erase(lines.begin(), lines.end() - max_lines);
  }
  return absl::StrCat(path, ":\n  ", absl::StrJoin(lines, "\n  "));
}

// libpq keyword values are quoted with '...' and backslash escapes.
std::string QuoteConninfoValue(absl::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

// `conninfo` (URL or keyword string) with its dbname replaced, as a keyword
// string.
absl::StatusOr<std::string> WithDatabase(const std::string& conninfo,
                                         absl::string_view dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse the PostgreSQL connection string: ", message));
  }
  std::vector<std::string> parts;
  for (PQconninfoOption* option = options; option->keyword != nullptr;
       ++option) {
    if (absl::string_view(option->keyword) == "dbname") continue;
    if (option->val == nullptr) continue;
    parts.push_back(
        absl::StrCat(option->keyword, "=", QuoteConninfoValue(option->val)));
  }
  PQconninfoFree(options);
  parts.push_back(absl::StrCat("dbname=", QuoteConninfoValue(dbname)));
  return absl::StrJoin(parts, " ");
}

// Double-quoted SQL identifier.
std::string QuoteIdentifier(absl::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path);
}

void RemoveTree(const std::string& path) {
  nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

// Owned servers not yet cleaned up, for CleanUpAtExit.
absl::Mutex live_servers_mutex(absl::kConstInit);
std::set<PostgresServer*>* live_servers ABSL_GUARDED_BY(live_servers_mutex) =
    nullptr;
absl::once_flag at_exit_once;

std::string RunuserPath() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  const char* url = std::getenv(kUrlEnv);
  if (url != nullptr && *url != '\0') return UseExternal(url);
  return StartOwned(PostgresServerOptions());
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::UseExternal(
    absl::string_view url) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->admin_connection_ = std::string(url);
  // Parse first: a bad string is reported as such, not as an unreachable
  // server. The URL itself is never echoed, it may hold a password.
  absl::StatusOr<std::string> parsed =
      WithDatabase(server->admin_connection_, "postgres");
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kUrlEnv, ": ", parsed.status().message()));
  }
  PGPing ping = PQping(server->admin_connection_.c_str());
  if (ping != PQPING_OK) {
    return absl::UnavailableError(
        absl::StrCat("the PostgreSQL server named by ", kUrlEnv,
                     " does not accept connections (PQping result ", ping,
                     "); unset it to let the tests start their own server"));
  }
  server->running_ = true;
  return server;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::StartOwned(
    PostgresServerOptions options) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (access(BinPath(tool).c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(BinPath(tool), " not found (", ErrnoText(errno),
                       "): ", kInstallHint));
    }
  }
  if (geteuid() == 0 && RunuserPath().empty()) {
    return absl::FailedPreconditionError(
        "running as root, and runuser (util-linux) is missing: initdb and "
        "postgres refuse to run as root");
  }

  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->options_ = options;
  // Short and under /tmp: the Unix socket path must stay under 108 bytes, and
  // the postgres user must be able to reach it (TEST_TMPDIR is under /root).
  char dir_template[] = "/tmp/pgXXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create a directory under /tmp: ", ErrnoText(errno)));
  }
  server->base_dir_ = dir_template;
  absl::call_once(at_exit_once, [] { std::atexit(CleanUpAtExit); });
  {
    absl::MutexLock lock(&live_servers_mutex);
    if (live_servers == nullptr) live_servers = new std::set<PostgresServer*>;
    live_servers->insert(server.get());
  }
  server->data_dir_ = server->base_dir_ + "/data";
  server->log_path_ = server->base_dir_ + "/server.log";
  if (geteuid() == 0) {
    passwd* user = getpwnam(kSystemUser);
    if (user == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("running as root, and there is no '", kSystemUser,
                       "' system user to run PostgreSQL as: ", kInstallHint));
    }
    if (chown(server->base_dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      int error = errno;
      std::string why =
          error == EINVAL
              ? absl::StrCat(
                    " (root inside a user namespace that maps no '",
                    kSystemUser,
                    "' user, such as Bazel's linux-sandbox: tag the test "
                    "\"no-sandbox\", or set ",
                    kUrlEnv, ")")
              : "";
      return absl::FailedPreconditionError(
          absl::StrCat("cannot chown ", server->base_dir_, " to ", kSystemUser,
                       ": ", ErrnoText(error), why));
    }
  }

  absl::Status status = server->InitCluster();
  if (!status.ok()) return status;
  if (!options.tls_cert_path.empty()) {
    status = server->InstallTlsFiles();
    if (!status.ok()) return status;
  }
  if (options.unix_socket_only) {
    server->admin_connection_ = server->ConnectionFor("postgres");
    status = server->StartPostmaster();
    if (!status.ok()) return status;
    return server;
  }
  // Another process may take the port between probing and binding: retry
  // with a new one.
  for (int attempt = 1; attempt <= kPortAttempts; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    server->admin_connection_ = server->ConnectionFor("postgres");
    status = server->StartPostmaster();
    if (status.ok()) return server;
    if (!absl::StrContains(Tail(server->log_path_), "already in use")) break;
  }
  return status;
}

PostgresServer::~PostgresServer() {
  if (owned()) {
    // The databases go with the directory.
    CleanUp();
  } else {
    DropFreshDatabases().IgnoreError();
  }
}

void PostgresServer::CleanUp() {
  {
    absl::MutexLock lock(&live_servers_mutex);
    if (cleaned_up_) return;
    cleaned_up_ = true;
    live_servers->erase(this);
  }
  if (running_) Stop().IgnoreError();
  RemoveTree(base_dir_);
}

void PostgresServer::CleanUpAtExit() {
  std::set<PostgresServer*> servers;
  {
    absl::MutexLock lock(&live_servers_mutex);
    servers = *live_servers;
  }
  for (PostgresServer* server : servers) server->CleanUp();
}

absl::Status PostgresServer::RunPostgresTool(
    const std::string& tool, const std::vector<std::string>& args,
    const std::string& log_path) const {
  std::vector<std::string> argv;
  if (geteuid() == 0) {
    argv = {RunuserPath(), "-u", kSystemUser, "--"};
  }
  argv.push_back(BinPath(tool));
  argv.insert(argv.end(), args.begin(), args.end());
  // Everything the child needs is prepared before fork: only
  // async-signal-safe calls happen between fork and exec.
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  const char* dir = base_dir_.c_str();
  const char* log = log_path.c_str();

  pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", ErrnoText(errno)));
  }
  if (pid == 0) {
    // The postgres user cannot read the test's working directory.
    if (chdir(dir) != 0) _exit(126);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execv(c_argv[0], c_argv.data());
    static constexpr char kExecFailed[] = "exec failed\n";
    (void)!write(2, kExecFailed, sizeof(kExecFailed) - 1);
    _exit(127);
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", ErrnoText(errno)));
    }
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
    return absl::OkStatus();
  }
  std::string how =
      WIFEXITED(wait_status)
          ? absl::StrCat("exited with ", WEXITSTATUS(wait_status))
          : absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  std::string who = geteuid() == 0 ? absl::StrCat("runuser -u ", kSystemUser,
                                                  " -- ", BinPath(tool))
                                   : BinPath(tool);
  std::string hint;
  if (geteuid() == 0 && absl::StrContains(Tail(log_path), "runuser:")) {
    hint = absl::StrCat(
        "\nrunuser could not switch to the '", kSystemUser,
        "' user (a sandbox without setuid/setgroups?); run the test "
        "unsandboxed or set ",
        kUrlEnv);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      who, " ", how, hint, "\n", Tail(log_path),
      log_path == log_path_ ? "" : absl::StrCat("\n", Tail(log_path_))));
}

absl::Status PostgresServer::InitCluster() {
  return RunPostgresTool("initdb",
                         {"--no-sync", "-A", "trust", "-U", kSystemUser, "-E",
                          "UTF8", "--locale=C", "-D", data_dir_},
                         base_dir_ + "/initdb.log");
}

absl::Status PostgresServer::InstallTlsFiles() {
  const std::pair<const std::string*, const char*> files[] = {
      {&options_.tls_cert_path, "server.crt"},
      {&options_.tls_key_path, "server.key"}};
  passwd* user = geteuid() == 0 ? getpwnam(kSystemUser) : nullptr;
  for (const auto& [from, name] : files) {
    std::ifstream in(*from, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    const std::string to = absl::StrCat(base_dir_, "/", name);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    out << content.str();
    out.close();
    if (!in || content.str().empty() || !out) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot copy ", *from, " to ", to));
    }
    if (chmod(to.c_str(), 0600) != 0 ||
        (user != nullptr && chown(to.c_str(), user->pw_uid, user->pw_gid))) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make ", to, " private: ", ErrnoText(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::StartPostmaster() {
  // The socket goes in base_dir_ either way (never /var/run/postgresql).
  std::string options = absl::StrCat(
      "-k ", base_dir_, " -c max_connections=", options_.max_connections);
  if (options_.unix_socket_only) {
    absl::StrAppend(&options, " -c listen_addresses=''");
  } else {
    absl::StrAppend(&options, " -p ", port_, " -c listen_addresses=127.0.0.1");
  }
  // Throwaway data need not survive a machine crash; synchronous_commit stays
  // on (see PostgresServerOptions::durable).
  if (!options_.durable) {
    absl::StrAppend(&options, " -c fsync=off -c full_page_writes=off");
  }
  if (!options_.tls_cert_path.empty()) {
    absl::StrAppend(&options, " -c ssl=on -c ssl_cert_file=", base_dir_,
                    "/server.crt -c ssl_key_file=", base_dir_, "/server.key");
  }
  absl::Status status =
      RunPostgresTool("pg_ctl",
                      {"-D", data_dir_, "-l", log_path_, "-o", options, "-w",
                       "-t", absl::StrCat(kStartTimeoutSeconds), "start"},
                      base_dir_ + "/pg_ctl.log");
  if (!status.ok()) {
    // pg_ctl may have given up on a postmaster that is still starting.
    RunPostgresTool("pg_ctl", {"-D", data_dir_, "-m", "immediate", "stop"},
                    base_dir_ + "/pg_ctl.log")
        .IgnoreError();
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL did not start on ", Address(), ": ", status.message()));
  }
  running_ = true;
  return WaitUntilAccepting(kStartTimeoutSeconds);
}

absl::Status PostgresServer::WaitUntilAccepting(int timeout_seconds) const {
  absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  const std::string probe = absl::StrCat(
      admin_connection_,
      options_.unix_socket_only ? " connect_timeout=2" : "?connect_timeout=2");
  PGPing ping = PQPING_NO_RESPONSE;
  while (absl::Now() < deadline) {
    ping = PQping(probe.c_str());
    if (ping == PQPING_OK) return absl::OkStatus();
    if (ping == PQPING_NO_ATTEMPT) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::UnavailableError(absl::StrCat(
      "PostgreSQL on ", Address(), " did not accept connections within ",
      timeout_seconds, " s (PQping result ", ping, ")\n", Tail(log_path_)));
}

bool PostgresServer::IsAcceptingConnections() const {
  return PQping(admin_connection_.c_str()) == PQPING_OK;
}

std::string PostgresServer::ConnectionFor(absl::string_view name) const {
  if (!owned()) {
    absl::StatusOr<std::string> connection =
        WithDatabase(admin_connection_, name);
    // admin_connection_ was parsed successfully in UseExternal.
    return connection.ok() ? *connection : admin_connection_;
  }
  if (options_.unix_socket_only) {
    return absl::StrCat("host=", base_dir_, " user=", kSystemUser,
                        " dbname=", QuoteConninfoValue(name));
  }
  return absl::StrFormat("postgresql://%s@127.0.0.1:%d/%s", kSystemUser, port_,
                         name);
}

std::string PostgresServer::Address() const {
  return options_.unix_socket_only
             ? absl::StrCat("the Unix socket in ", base_dir_)
             : absl::StrCat("127.0.0.1:", port_);
}

absl::Status PostgresServer::ExecuteAdmin(const std::string& sql) const {
  PGconn* connection = PQconnectdb(admin_connection_.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    absl::Status status = absl::UnavailableError(absl::StrCat(
        "cannot connect to PostgreSQL: ", PQerrorMessage(connection)));
    PQfinish(connection);
    return status;
  }
  PGresult* result = PQexec(connection, sql.c_str());
  absl::Status status = absl::OkStatus();
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    status = absl::InternalError(
        absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  PQfinish(connection);
  return status;
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(
    absl::string_view name) {
  // template0 and explicit UTF8/C: the same clean, byte-ordered database
  // whatever an external server's defaults are.
  absl::Status status = ExecuteAdmin(absl::StrCat(
      "CREATE DATABASE ", QuoteIdentifier(name),
      " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"));
  if (!status.ok()) return status;
  return ConnectionFor(name);
}

absl::StatusOr<std::string> PostgresServer::CreateFreshDatabase() {
  std::string name;
  {
    absl::MutexLock lock(&mutex_);
    // pid and a random part keep names apart across processes sharing an
    // external server.
    name = absl::StrFormat("tasks_test_%d_%d_%06x", getpid(), next_database_++,
                           absl::Uniform<uint32_t>(absl::BitGen(), 0, 1 << 24));
  }
  absl::StatusOr<std::string> connection = CreateDatabase(name);
  if (!connection.ok()) return connection.status();
  {
    absl::MutexLock lock(&mutex_);
    fresh_databases_.push_back(name);
  }
  return connection;
}

absl::Status PostgresServer::DropFreshDatabases() {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mutex_);
    names.swap(fresh_databases_);
  }
  absl::Status result = absl::OkStatus();
  for (const std::string& name : names) {
    absl::Status status = ExecuteAdmin(absl::StrCat(
        "DROP DATABASE IF EXISTS ", QuoteIdentifier(name), " WITH (FORCE)"));
    if (result.ok()) result = status;
  }
  return result;
}

absl::Status PostgresServer::Stop() {
  if (!owned()) {
    return absl::FailedPreconditionError(
        "the server named by TASKS_TEST_POSTGRES_URL is not ours to stop");
  }
  absl::Status status = RunPostgresTool(
      "pg_ctl", {"-D", data_dir_, "-m", "immediate", "-w", "stop"},
      base_dir_ + "/pg_ctl.log");
  if (status.ok()) running_ = false;
  return status;
}

absl::Status PostgresServer::Restart() {
  if (!owned()) {
    return absl::FailedPreconditionError(
        "the server named by TASKS_TEST_POSTGRES_URL is not ours to restart");
  }
  return StartPostmaster();
}

}  // namespace tasks::testing
