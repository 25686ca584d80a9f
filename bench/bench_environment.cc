#include "bench/bench_environment.h"

#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "bench/load_generator.h"

namespace tasks::bench {
namespace {

constexpr char kWorkspace[] = "tasks";
constexpr long kTmpfsMagic = 0x01021994;
// PostgreSQL connections: the service's pool, raw baselines and headroom.
constexpr int kPostgresMaxConnections = 300;

bool OnTmpfs(const std::string& path) {
  struct statfs info;
  return statfs(path.c_str(), &info) == 0 &&
         static_cast<long>(info.f_type) == kTmpfsMagic;
}

}  // namespace

absl::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kSqliteFile:
      return "sqlite-file";
    case Backend::kSqliteMemory:
      return "sqlite-memory";
    case Backend::kPostgres:
      return "postgres";
  }
  return "?";
}

absl::optional<Backend> ParseBackend(absl::string_view name) {
  const std::string dashed = absl::StrReplaceAll(name, {{"_", "-"}});
  for (Backend backend : kAllBackends) {
    if (absl::EqualsIgnoreCase(dashed, BackendName(backend))) return backend;
  }
  return absl::nullopt;
}

absl::StatusOr<std::unique_ptr<BenchEnvironment>> BenchEnvironment::Create(
    const std::string& argv0, const std::string& scratch_parent) {
  // `bazel run` starts programs in their runfiles tree; run directly, the
  // tree sits beside the binary.
  std::string runfiles = ".";
  if (const char* dir = getenv("RUNFILES_DIR"); dir != nullptr) {
    runfiles = absl::StrCat(dir, "/", kWorkspace);
  } else if (std::filesystem::is_directory(argv0 + ".runfiles")) {
    runfiles = absl::StrCat(argv0, ".runfiles/", kWorkspace);
  }
  std::string templ = absl::StrCat(scratch_parent, "/tasks-bench-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create ", templ));
  }
  return std::unique_ptr<BenchEnvironment>(
      new BenchEnvironment(runfiles, templ));
}

BenchEnvironment::~BenchEnvironment() {
  postgres_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir_, ignored);
}

absl::StatusOr<std::string> BenchEnvironment::Program(
    absl::string_view runfile) const {
  const std::string path = absl::StrCat(runfiles_dir_, "/", runfile);
  if (access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        path, " not found: run through `bazel run -c opt //bench:...`"));
  }
  return std::filesystem::absolute(path).string();
}

absl::StatusOr<std::string> BenchEnvironment::Database(Backend backend,
                                                       absl::string_view name) {
  switch (backend) {
    case Backend::kSqliteFile:
      return absl::StrCat(scratch_dir_, "/", name, ".db");
    case Backend::kSqliteMemory:
      return std::string(":memory:");
    case Backend::kPostgres:
      if (postgres_ == nullptr) {
        // Durable, as the SQLite file the matrix compares it with; reached
        // over its Unix socket.
        ::tasks::testing::PostgresServerOptions options;
        options.durable = true;
        options.unix_socket_only = true;
        options.max_connections = kPostgresMaxConnections;
        absl::StatusOr<std::unique_ptr<::tasks::testing::PostgresServer>>
            started = ::tasks::testing::PostgresServer::StartOwned(options);
        if (!started.ok()) return started.status();
        postgres_ = *std::move(started);
      }
      return postgres_->CreateDatabase(name);
  }
  return absl::InvalidArgumentError("unknown backend");
}

absl::StatusOr<RunningServer> BenchEnvironment::StartServer(
    absl::string_view program, std::vector<std::string> args,
    absl::string_view log_name) {
  absl::StatusOr<std::string> path = Program(program);
  if (!path.ok()) return path.status();
  return StartServerAt(*path, std::move(args), log_name);
}

absl::StatusOr<RunningServer> BenchEnvironment::StartServerAt(
    const std::string& path, std::vector<std::string> args,
    absl::string_view log_name) {
  absl::StatusOr<int> port = PickFreePort();
  if (!port.ok()) return port.status();
  RunningServer server;
  server.target = absl::StrCat("127.0.0.1:", *port);
  args.insert(args.begin(), path);
  args.push_back(absl::StrCat("--listen=", server.target));
  const std::string log_path = absl::StrCat(scratch_dir_, "/", log_name);
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(args, log_path);
  if (!process.ok()) return process.status();
  server.process = *std::move(process);
  server.channel = MakeBenchChannel(server.target);
  absl::Status ready = WaitForServer(server.channel, absl::Seconds(30));
  if (!ready.ok()) {
    return absl::UnavailableError(absl::StrCat(
        path, " did not come up: ", ready.message(), " (log: ", log_path, ")"));
  }
  return server;
}

std::vector<std::string> BenchEnvironment::Warnings() const {
  std::vector<std::string> warnings;
  if (OnTmpfs(scratch_dir_)) {
    warnings.push_back(absl::StrCat(
        scratch_dir_, " is on tmpfs: SQLite file commits cost no real fsync"));
  }
  if (OnTmpfs("/tmp")) {
    warnings.push_back(
        "/tmp is on tmpfs: PostgreSQL commits cost no real fsync");
  }
  return warnings;
}

}  // namespace tasks::bench
