#include "bench/postgres_instance.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/child_process.h"

namespace tasks::bench {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kUser[] = "postgres";

bool RunningAsRoot() { return geteuid() == 0; }

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresInstance>> PostgresInstance::Start(
    int max_connections) {
  if (access(absl::StrCat(kBinDir, "/initdb").c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        kBinDir, "/initdb not found: install postgresql-15 (tools/install_deps.sh)"));
  }
  // Short: the socket path must stay under 108 bytes.
  char templ[] = "/tmp/tbpgXXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return absl::InternalError("cannot create a directory under /tmp");
  }
  auto instance = std::unique_ptr<PostgresInstance>(new PostgresInstance(templ));
  if (RunningAsRoot()) {
    const passwd* user = getpwnam(kUser);
    if (user == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, but there is no `postgres` user to run PostgreSQL as");
    }
    if (chown(templ, user->pw_uid, user->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("cannot chown ", templ));
    }
  }
  const std::string data = absl::StrCat(instance->directory_, "/data");
  if (absl::Status s = instance->RunTool(
          "initdb", {"-D", data, "-A", "trust", "-U", kUser, "-E", "UTF8",
                     "--locale=C", "--no-sync"});
      !s.ok()) {
    return s;
  }
  const std::string options = absl::StrCat(
      "-c listen_addresses='' -k ", instance->directory_,
      " -c max_connections=", max_connections);
  if (absl::Status s = instance->RunTool(
          "pg_ctl", {"-D", data, "-l", instance->directory_ + "/server.log",
                     "-w", "-t", "30", "-o", options, "start"});
      !s.ok()) {
    return s;
  }
  instance->started_ = true;
  return instance;
}

PostgresInstance::~PostgresInstance() {
  if (started_) {
    RunTool("pg_ctl", {"-D", directory_ + "/data", "-m", "fast", "-w", "stop"})
        .IgnoreError();
  }
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

absl::Status PostgresInstance::RunTool(const std::string& tool,
                                       const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  if (RunningAsRoot()) argv = {"runuser", "-u", kUser, "--"};
  argv.push_back(absl::StrCat(kBinDir, "/", tool));
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, directory_ + "/tools.log");
}

std::string PostgresInstance::ConnectionFor(absl::string_view database) const {
  return absl::StrCat("host=", directory_, " user=", kUser, " dbname=", database);
}

absl::StatusOr<std::string> PostgresInstance::CreateDatabase(
    absl::string_view name) {
  PGconn* conn = PQconnectdb(ConnectionFor("postgres").c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(PQerrorMessage(conn));
  } else {
    PGresult* result = PQexec(conn, absl::StrCat("CREATE DATABASE ", name).c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = absl::InternalError(PQerrorMessage(conn));
    }
    PQclear(result);
  }
  PQfinish(conn);
  if (!status.ok()) return status;
  return ConnectionFor(name);
}

}  // namespace tasks::bench
