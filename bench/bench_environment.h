#ifndef TASKS_BENCH_BENCH_ENVIRONMENT_H_
#define TASKS_BENCH_BENCH_ENVIRONMENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "bench/child_process.h"
#include "grpcpp/channel.h"
#include "tests/testing/postgres_server.h"

namespace tasks::bench {

// The databases the service is measured on.
enum class Backend { kSqliteFile, kSqliteMemory, kPostgres };

inline constexpr Backend kAllBackends[] = {
    Backend::kSqliteFile, Backend::kSqliteMemory, Backend::kPostgres};

// "sqlite-file", "sqlite-memory", "postgres".
absl::string_view BackendName(Backend backend);
// Accepts BackendName's words, with '_' for '-'.
absl::optional<Backend> ParseBackend(absl::string_view name);

// A server process the benchmark started, and a channel to it.
struct RunningServer {
  std::unique_ptr<ChildProcess> process;
  std::string target;  // 127.0.0.1:port
  std::shared_ptr<grpc::Channel> channel;
};

// BenchEnvironment
//
// What a benchmark run needs around the code under test: a scratch
// directory (removed at the end), the programs it starts (found in Bazel's
// runfiles), databases of each backend (a throwaway PostgreSQL started on
// first use) and servers on free ports, ready when returned.
class BenchEnvironment {
 public:
  // `argv0` locates the runfiles; the scratch directory goes under
  // `scratch_parent` (on disk, not tmpfs, for SQLite files to mean durable).
  static absl::StatusOr<std::unique_ptr<BenchEnvironment>> Create(
      const std::string& argv0, const std::string& scratch_parent);
  ~BenchEnvironment();

  const std::string& scratch_dir() const { return scratch_dir_; }

  // Path of a program built with this one, e.g. "service/task_server".
  absl::StatusOr<std::string> Program(absl::string_view runfile) const;

  // A fresh database named `name` on `backend`: a file in the scratch
  // directory, ":memory:", or a new PostgreSQL database.
  absl::StatusOr<std::string> Database(Backend backend, absl::string_view name);

  // Starts `program` with `args` plus --listen on a free port (its output in
  // the scratch directory, file `log_name`) and waits until it answers a
  // health check.
  absl::StatusOr<RunningServer> StartServer(absl::string_view program,
                                            std::vector<std::string> args,
                                            absl::string_view log_name);

  // As StartServer, for a program at `path` rather than in the runfiles (a
  // binary built elsewhere, e.g. from an older commit).
  absl::StatusOr<RunningServer> StartServerAt(const std::string& path,
                                              std::vector<std::string> args,
                                              absl::string_view log_name);

  // Warnings about the machine that make figures less meaningful (a scratch
  // directory on tmpfs, where fsync costs nothing).
  std::vector<std::string> Warnings() const;

 private:
  BenchEnvironment(std::string runfiles_dir, std::string scratch_dir)
      : runfiles_dir_(std::move(runfiles_dir)),
        scratch_dir_(std::move(scratch_dir)) {}

  std::string runfiles_dir_;
  std::string scratch_dir_;
  std::unique_ptr<::tasks::testing::PostgresServer> postgres_;
};

}  // namespace tasks::bench

#endif  // TASKS_BENCH_BENCH_ENVIRONMENT_H_
