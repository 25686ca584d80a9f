// The task server: flags in, a running TaskServer out, graceful shutdown on
// SIGINT/SIGTERM. Everything else lives in the libraries it wires together.

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/command_line.h"
#include "service/database_path.h"
#include "service/logging.h"
#include "service/server.h"
#include "service/termination_signal.h"
#include "storage/soci_task_store.h"

ABSL_FLAG(std::string, listen, "localhost:50051",
          "Address to serve on, host:port.");
ABSL_FLAG(std::string, db, "tasks.db",
          "Database: a SQLite file (relative to the directory the command "
          "was run from), :memory:, or a PostgreSQL URL "
          "(postgresql://user@host:5432/db) or keyword string.");
ABSL_FLAG(int, pool_size, 0,
          "Database connections (a SQLite file or PostgreSQL); 0 picks the "
          "backend's default. :memory: always uses one.");
ABSL_FLAG(int, max_threads, 64,
          "Most threads serving calls; calls beyond them get "
          "RESOURCE_EXHAUSTED. At least 2.");
ABSL_FLAG(absl::Duration, max_request_deadline, absl::Seconds(30),
          "Longest a call may wait on the database (for a pooled connection "
          "or a lock), whatever deadline the client sends; the store's own "
          "5s limit applies when it is lower.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long in-flight calls may take to finish.");
ABSL_FLAG(absl::Duration, health_probe_interval, absl::Seconds(1),
          "How often the database is probed for the health service (and "
          "opening it retried while it is down).");
ABSL_FLAG(tasks::service::LogLevel, log_level, tasks::service::LogLevel::kInfo,
          "debug, info, warning or error. One info line per call.");

namespace tasks::service {
namespace {

constexpr char kProgram[] = "task_server";
constexpr int kUsageError = 2;

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  const absl::Duration max_request_deadline =
      absl::GetFlag(FLAGS_max_request_deadline);
  ServerConfig config;
  config.listen_address = absl::GetFlag(FLAGS_listen);
  config.max_threads = absl::GetFlag(FLAGS_max_threads);
  config.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  config.health_probe_interval = absl::GetFlag(FLAGS_health_probe_interval);
  if (config.listen_address.empty()) {
    return absl::InvalidArgumentError("--listen must not be empty");
  }
  if (absl::GetFlag(FLAGS_pool_size) < 0) {
    return absl::InvalidArgumentError("--pool_size must not be negative");
  }
  if (config.max_threads < 2) {
    return absl::InvalidArgumentError("--max_threads must be at least 2");
  }
  if (max_request_deadline <= absl::ZeroDuration() ||
      config.health_probe_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_request_deadline and --health_probe_interval must be positive");
  }
  if (config.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_timeout must not be negative");
  }

  const char* working_directory = std::getenv("BUILD_WORKING_DIRECTORY");
  std::string db = ResolveDatabasePath(
      absl::GetFlag(FLAGS_db), working_directory ? working_directory : "");
  storage::SociTaskStoreOptions options;
  options.pool_size = absl::GetFlag(FLAGS_pool_size);
  options.wait_timeout = std::min(options.wait_timeout, max_request_deadline);
  config.open_store = [db, options] {
    return storage::OpenSociTaskStore(db, options);
  };
  return config;
}

int UsageError(absl::string_view message) {
  std::cerr << kProgram << ": " << message
            << "\nRun with --help to see the flags.\n";
  return kUsageError;
}

int Run(int argc, char* argv[]) {
  BlockTerminationSignals();  // Before any thread exists.
  absl::StatusOr<CommandLineAction> action = ParseFlags(argc, argv);
  if (!action.ok()) return UsageError(action.status().message());
  if (*action == CommandLineAction::kHelp) {
    std::cout << FlagsHelp(kProgram, "service/");
    return 0;
  }
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) return UsageError(config.status().message());
  SetLogLevel(absl::GetFlag(FLAGS_log_level));

  absl::StatusOr<std::unique_ptr<TaskServer>> server =
      TaskServer::Start(*std::move(config));
  if (!server.ok()) {
    Log(LogLevel::kError, absl::StrCat("cannot start: ",
                                       server.status().message()));
    return server.status().code() == absl::StatusCode::kInvalidArgument
               ? kUsageError
               : 1;
  }
  const int signal_number = WaitForTerminationSignal();
  Log(LogLevel::kInfo, absl::StrCat("received signal ", signal_number));
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace tasks::service

int main(int argc, char* argv[]) { return tasks::service::Run(argc, argv); }
