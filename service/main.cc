// The task server: flags in, a running TaskServer out, graceful shutdown on
// SIGINT/SIGTERM. Everything else lives in the libraries it wires together.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "service/auth.h"
#include "service/command_line.h"
#include "service/database_path.h"
#include "service/database_source.h"
#include "service/dsn_redaction.h"
#include "service/health_service.h"
#include "service/library_logs.h"
#include "service/logging.h"
#include "service/malloc_arenas.h"
#include "service/pool_plan.h"
#include "service/server.h"
#include "service/server_metrics.h"
#include "service/termination_signal.h"
#include "service/tls_credentials.h"
#include "service/version.h"
#include "storage/soci_task_store.h"

ABSL_FLAG(std::string, listen, "localhost:50051",
          "Address to serve on, host:port.");
ABSL_FLAG(std::string, db, "",
          "Database: a SQLite file (relative to the directory the command "
          "was run from), :memory:, or a PostgreSQL URL "
          "(postgresql://user@host:5432/db) or keyword string. Empty, and "
          "neither --db_file nor --db_env: tasks.db. A password here shows "
          "in ps: use --db_file or --db_env for one.");
ABSL_FLAG(std::string, db_file, "",
          "A file holding the --db connection string (trailing line breaks "
          "dropped), so a password stays out of the command line.");
ABSL_FLAG(std::string, db_env, "",
          "An environment variable holding the --db connection string.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (and chain) to serve TLS with; needs --tls_key. "
          "Empty: plaintext, with a warning unless --listen is loopback.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key (unencrypted) of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): clients must present a certificate signed "
          "by one (mutual TLS). Needs --tls_cert.");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "File of bearer tokens, one per line: <token> <principal> "
          "<projects: * or comma-separated ids>; # starts a comment. Set: "
          "every TaskService call needs \"authorization: Bearer <token>\" "
          "metadata. Empty: no authentication.");
ABSL_FLAG(int, pool_size, 0,
          "Database connections (a SQLite file or PostgreSQL); 0 picks the "
          "backend's default. :memory: always uses one.");
ABSL_FLAG(int, max_threads, 128,
          "Most worker threads (writes and lists; on PostgreSQL the other "
          "reads too, and GetTask/CreateTask while its pipelined connections "
          "are down); calls beyond them get RESOURCE_EXHAUSTED. At least 2.");
ABSL_FLAG(int, completion_queues, 0,
          "Threads receiving calls and doing the network work, one "
          "completion queue each (SQLite GetTask/GetProject run on them "
          "too); 0: half the cores, at least 1.");
ABSL_FLAG(int, max_concurrent_lists,
          tasks::service::ServerConfig().max_concurrent_lists,
          "Most ListTasks/ListProjects calls running at once, and as many "
          "BatchCreateTasks calls; more wait for one to end (a page of the "
          "heaviest rows takes ~20 MB, a batch ~10 MB). At least 1.");
ABSL_FLAG(int, max_health_watches,
          tasks::service::HealthService::kDefaultMaxWatches,
          "Most health Watch streams open at once; more get "
          "RESOURCE_EXHAUSTED. At least 1.");
ABSL_FLAG(int, max_watchers, tasks::service::ServerConfig().max_watchers,
          "Most WatchTasks streams open at once; more get RESOURCE_EXHAUSTED "
          "(TOO_MANY_WATCHERS). At least 1.");
ABSL_FLAG(int, max_watchers_per_principal,
          tasks::service::ServerConfig().max_watchers_per_principal,
          "Most WatchTasks streams one principal (bearer token's name) may "
          "have open; without --auth_tokens_file only --max_watchers "
          "applies. At least 1.");
ABSL_FLAG(absl::Duration, watch_poll_interval,
          tasks::service::ServerConfig().watch_poll_interval,
          "While WatchTasks streams are open, how often the change log is "
          "read for changes written by other processes or replicas that "
          "sent no notification (a shared SQLite file, PgBouncer).");
ABSL_FLAG(absl::Duration, watch_retention,
          tasks::service::ServerConfig().watch_retention,
          "How long changes are kept for resuming WatchTasks streams; an "
          "older resume_token gets OUT_OF_RANGE (RESUME_TOKEN_EXPIRED).");
ABSL_FLAG(absl::Duration, max_request_deadline, absl::Seconds(30),
          "Longest a call may wait on the database (for a pooled connection "
          "or a lock), whatever deadline the client sends; the store's own "
          "5s limit applies when it is lower.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long in-flight calls may take to finish; "
          "then their database statements are cancelled.");
ABSL_FLAG(absl::Duration, health_probe_interval, absl::Seconds(1),
          "How often the database is probed for the health service (and "
          "opening it retried while it is down).");
ABSL_FLAG(absl::Duration, health_probe_timeout, absl::Milliseconds(500),
          "How long a health probe may wait for the database: one that has "
          "not answered by then (hung, or too slow to serve) makes health "
          "NOT_SERVING at once.");
ABSL_FLAG(absl::Duration, max_connection_idle,
          tasks::service::ServerConfig().max_connection_idle,
          "A connection with no call in flight this long is closed (clients "
          "reconnect on their next call). inf: never.");
ABSL_FLAG(absl::Duration, max_connection_age,
          tasks::service::ServerConfig().max_connection_age,
          "A connection this old (+-10%) takes no new calls and is closed "
          "once its calls end, or --max_connection_age_grace later. inf: "
          "never.");
ABSL_FLAG(absl::Duration, max_connection_age_grace,
          tasks::service::ServerConfig().max_connection_age_grace,
          "How long the calls of a connection past --max_connection_age may "
          "still run.");
ABSL_FLAG(absl::Duration, handshake_timeout,
          tasks::service::ServerConfig().handshake_timeout,
          "A new connection must finish its TLS handshake and HTTP/2 preface "
          "within this time, or it is closed.");
ABSL_FLAG(absl::Duration, min_client_ping_interval,
          tasks::service::ServerConfig().min_client_ping_interval,
          "Keepalive enforcement: a client pinging more often than this "
          "without sending calls gets a strike.");
ABSL_FLAG(int, max_ping_strikes,
          tasks::service::ServerConfig().max_ping_strikes,
          "Strikes (see --min_client_ping_interval) after which a "
          "connection is closed with GOAWAY too_many_pings; 0: no limit.");
ABSL_FLAG(int, max_streams_per_connection,
          tasks::service::ServerConfig().max_streams_per_connection,
          "Most calls in flight on one connection; a client's further calls "
          "wait until one ends.");
ABSL_FLAG(
    int, network_memory_mib,
    static_cast<int>(tasks::service::ServerConfig().network_memory_bytes >> 20),
    "MiB gRPC may use for connections, calls and their messages; near "
    "it, idle connections are closed and calls get RESOURCE_EXHAUSTED. "
    "0: no limit.");
ABSL_FLAG(int, max_unread_reply_mib_per_connection,
          static_cast<int>(tasks::service::ServerConfig()
                               .max_unread_reply_bytes_per_connection >>
                           20),
          "MiB of replies (of 4 KiB or more) a connection's client may leave "
          "unread (the server holds them until it reads); its further calls "
          "get RESOURCE_EXHAUSTED (UNREAD_REPLIES). Over a Unix socket, all "
          "clients count as one connection; behind a proxy, the proxy's "
          "connections do. At least 1.");
ABSL_FLAG(int, max_unread_reply_mib,
          static_cast<int>(
              tasks::service::ServerConfig().max_unread_reply_bytes >> 20),
          "MiB of unread replies the server holds for all its clients; "
          "reaching it, the reads' replies (of 4 KiB or more) left unread "
          "longest are dropped (their calls end CANCELLED) until it holds "
          "less; when writes' and small replies (never dropped) alone reach "
          "it, a connection holding any gets RESOURCE_EXHAUSTED "
          "(UNREAD_REPLIES) for its further calls, and past twice it, so "
          "does every read whose reply is 4 KiB or more. At least 1.");
ABSL_FLAG(tasks::service::LogLevel, log_level, tasks::service::LogLevel::kInfo,
          "debug, info, warning or error. One info line per call.");
ABSL_FLAG(tasks::service::LogFormat, log_format,
          tasks::service::LogFormat::kText,
          "text, or json: one JSON object per line (time, level, message; "
          "calls add method, code, latency_ms, peer, principal, "
          "request_id).");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving Prometheus metrics over HTTP at /metrics, e.g. "
          "localhost:9464 (no TLS, no authentication: keep it on loopback or "
          "a private network). Empty: no metrics.");
ABSL_FLAG(bool, channelz, false,
          "Serve grpc.channelz.v1.Channelz (connections, calls, sockets) on "
          "--listen, for debugging with a channelz client.");

namespace tasks::service {
namespace {

constexpr char kProgram[] = "task_server";
constexpr int kUsageError = 2;

// The directory the user ran the command from: `bazel run` starts the binary
// in its runfiles tree. Empty when not run by Bazel.
std::string WorkingDirectory() {
  const char* directory = std::getenv("BUILD_WORKING_DIRECTORY");
  return directory != nullptr ? directory : "";
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  const absl::Duration max_request_deadline =
      absl::GetFlag(FLAGS_max_request_deadline);
  ServerConfig config;
  config.listen_address = absl::GetFlag(FLAGS_listen);
  config.max_threads = absl::GetFlag(FLAGS_max_threads);
  config.completion_queues = absl::GetFlag(FLAGS_completion_queues);
  if (config.completion_queues == 0) {
    // The other half is for the workers, the database and the kernel's
    // network work.
    config.completion_queues =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2));
  }
  config.max_health_watches = absl::GetFlag(FLAGS_max_health_watches);
  config.max_concurrent_lists = absl::GetFlag(FLAGS_max_concurrent_lists);
  config.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  config.max_watchers_per_principal =
      absl::GetFlag(FLAGS_max_watchers_per_principal);
  config.watch_poll_interval = absl::GetFlag(FLAGS_watch_poll_interval);
  config.watch_retention = absl::GetFlag(FLAGS_watch_retention);
  config.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  config.health_probe_interval = absl::GetFlag(FLAGS_health_probe_interval);
  config.health_probe_timeout = absl::GetFlag(FLAGS_health_probe_timeout);
  config.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  config.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  config.max_connection_age_grace =
      absl::GetFlag(FLAGS_max_connection_age_grace);
  config.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  config.min_client_ping_interval =
      absl::GetFlag(FLAGS_min_client_ping_interval);
  config.max_ping_strikes = absl::GetFlag(FLAGS_max_ping_strikes);
  config.network_memory_bytes =
      static_cast<int64_t>(absl::GetFlag(FLAGS_network_memory_mib)) << 20;
  config.max_streams_per_connection =
      absl::GetFlag(FLAGS_max_streams_per_connection);
  constexpr int64_t kMib = int64_t{1} << 20;
  config.max_unread_reply_bytes_per_connection =
      absl::GetFlag(FLAGS_max_unread_reply_mib_per_connection) * kMib;
  config.max_unread_reply_bytes =
      absl::GetFlag(FLAGS_max_unread_reply_mib) * kMib;
  if (config.listen_address.empty()) {
    return absl::InvalidArgumentError("--listen must not be empty");
  }
  if (absl::GetFlag(FLAGS_pool_size) < 0) {
    return absl::InvalidArgumentError("--pool_size must not be negative");
  }
  if (config.max_threads < 2) {
    return absl::InvalidArgumentError("--max_threads must be at least 2");
  }
  if (config.max_concurrent_lists < 1) {
    return absl::InvalidArgumentError(
        "--max_concurrent_lists must be at least 1");
  }
  if (config.max_health_watches < 1) {
    return absl::InvalidArgumentError(
        "--max_health_watches must be at least 1");
  }
  if (config.completion_queues < 1) {
    return absl::InvalidArgumentError(
        "--completion_queues must not be negative");
  }
  if (config.max_watchers < 1 || config.max_watchers_per_principal < 1) {
    return absl::InvalidArgumentError(
        "--max_watchers and --max_watchers_per_principal must be at least 1");
  }
  if (config.watch_poll_interval <= absl::ZeroDuration() ||
      config.watch_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--watch_poll_interval and --watch_retention must be positive");
  }
  if (max_request_deadline <= absl::ZeroDuration() ||
      config.health_probe_interval <= absl::ZeroDuration() ||
      config.health_probe_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_request_deadline, --health_probe_interval and "
        "--health_probe_timeout must be positive");
  }
  if (config.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_timeout must not be negative");
  }
  if (config.max_connection_idle <= absl::ZeroDuration() ||
      config.max_connection_age <= absl::ZeroDuration() ||
      config.handshake_timeout <= absl::ZeroDuration() ||
      config.min_client_ping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_connection_idle, --max_connection_age, --handshake_timeout and "
        "--min_client_ping_interval must be positive");
  }
  if (config.max_connection_age_grace < absl::ZeroDuration() ||
      config.max_ping_strikes < 0 || config.network_memory_bytes < 0) {
    return absl::InvalidArgumentError(
        "--max_connection_age_grace, --max_ping_strikes and "
        "--network_memory_mib must not be negative");
  }
  if (config.max_unread_reply_bytes_per_connection < kMib ||
      config.max_unread_reply_bytes < kMib) {
    return absl::InvalidArgumentError(
        "--max_unread_reply_mib_per_connection and --max_unread_reply_mib "
        "must be at least 1");
  }
  if (config.max_streams_per_connection < 1) {
    return absl::InvalidArgumentError(
        "--max_streams_per_connection must be at least 1");
  }

  const std::string working_directory = WorkingDirectory();
  auto user_path = [&working_directory](const std::string& path) {
    return ResolveUserPath(path, working_directory);
  };

  DatabaseSource source;
  source.literal = absl::GetFlag(FLAGS_db);
  source.file = user_path(absl::GetFlag(FLAGS_db_file));
  source.env_var = absl::GetFlag(FLAGS_db_env);
  absl::StatusOr<std::string> setting = ReadDatabaseSetting(source);
  if (!setting.ok()) return setting.status();
  for (const DsnPassword& password : FindDsnPasswords(*setting)) {
    // Both forms, should an error message quote either.
    AddLogSecret(password.value);
    AddLogSecret(absl::string_view(*setting).substr(
        password.begin, password.end - password.begin));
  }
  const std::string db = ResolveDatabasePath(*setting, working_directory);
  Log(LogLevel::kInfo, absl::StrCat("database: ", RedactDsn(db)));

  TlsFiles tls;
  tls.cert_path = user_path(absl::GetFlag(FLAGS_tls_cert));
  tls.key_path = user_path(absl::GetFlag(FLAGS_tls_key));
  tls.client_ca_path = user_path(absl::GetFlag(FLAGS_tls_client_ca));
  if (tls.cert_path.empty() != tls.key_path.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!tls.client_ca_path.empty() && tls.cert_path.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca needs --tls_cert and --tls_key");
  }
  if (!tls.cert_path.empty()) {
    ASSIGN_OR_RETURN(config.credentials, LoadServerCredentials(tls));
  }

  const std::string tokens_path =
      user_path(absl::GetFlag(FLAGS_auth_tokens_file));
  if (!tokens_path.empty()) {
    absl::StatusOr<TokenTable> tokens = TokenTable::Load(tokens_path);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_tokens_file: ", tokens.status().message()));
    }
    Log(LogLevel::kInfo,
        absl::StrCat("auth: ", tokens->size(), " bearer token(s) loaded"));
    config.auth_tokens = std::make_shared<const TokenTable>(*std::move(tokens));
  }

  config.channelz = absl::GetFlag(FLAGS_channelz);
  config.metrics_listen_address = absl::GetFlag(FLAGS_metrics_listen);
  config.reads_on_queue_threads = !IsDatabaseServerConnection(db);
  storage::SociTaskStoreOptions options;
  if (!config.metrics_listen_address.empty()) {
    config.metrics = std::make_shared<ServerMetrics>();
    // The store reports to the metrics, which the config keeps alive.
    options.observer = &config.metrics->store_observer();
  }
  options.pool_size = absl::GetFlag(FLAGS_pool_size);
  if (db != ":memory:") {  // one connection, whatever is asked
    const PoolPlan plan =
        PlanPool(options.pool_size, config.max_concurrent_lists,
                 config.reads_on_queue_threads ? config.completion_queues : 0,
                 config.reads_on_queue_threads ? 4 : 8);
    if (plan.lists_lowered) {
      Log(LogLevel::kWarning,
          absl::StrCat("--pool_size=", plan.pool_size, " leaves room for only ",
                       plan.max_concurrent_lists,
                       " list(s) at once: --max_concurrent_lists lowered from ",
                       config.max_concurrent_lists));
    }
    options.pool_size = plan.pool_size;
    config.max_concurrent_lists = plan.max_concurrent_lists;
  }
  options.wait_timeout = std::min(options.wait_timeout, max_request_deadline);
  config.open_store = [db, options] {
    return storage::OpenSociTaskStore(db, options);
  };
  return config;
}

// Overwrites the password of a --db given on the command line with '*' in
// the process's own argv, which is what ps and /proc/<pid>/cmdline show.
// (It was visible until now: hence the warning.)
void MaskDatabaseArguments(int argc, char* argv[]) {
  bool masked = false;
  for (int i = 1; i < argc; ++i) {
    char* value = nullptr;
    absl::string_view arg = argv[i];
    for (absl::string_view flag : {"--db=", "-db="}) {
      if (absl::StartsWith(arg, flag)) value = argv[i] + flag.size();
    }
    if ((arg == "--db" || arg == "-db") && i + 1 < argc) value = argv[++i];
    if (value == nullptr || FindDsnPasswords(value).empty()) continue;
    MaskDsnPasswordsInPlace(value);
    masked = true;
  }
  if (masked) {
    Log(LogLevel::kWarning,
        "--db holds a password, which other users could read in the "
        "process list until now; give it with --db_file or --db_env instead");
  }
}

int UsageError(absl::string_view message) {
  std::cerr << kProgram << ": " << message
            << "\nRun with --help to see the flags.\n";
  return kUsageError;
}

int Run(int argc, char* argv[]) {
  // Debian builds Abseil with deadlock detection on; its per-lock bookkeeping
  // shows in server profiles.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  BlockTerminationSignals();  // Before any thread exists.
  // A log collector that goes away must not take the server with it: the
  // write to its pipe fails with EPIPE (its lines counted as dropped).
  std::signal(SIGPIPE, SIG_IGN);
  LimitMallocArenas();
  absl::StatusOr<CommandLineAction> action =
      ParseFlags(argc, argv, WorkingDirectory());
  if (action.ok()) {  // Every line from here on in the chosen format.
    SetLogLevel(absl::GetFlag(FLAGS_log_level));
    SetLogFormat(absl::GetFlag(FLAGS_log_format));
    RouteLibraryLogsToLogger();
  }
  MaskDatabaseArguments(argc, argv);
  if (!action.ok()) return UsageError(action.status().message());
  if (*action == CommandLineAction::kHelp) {
    std::cout << FlagsHelp(kProgram, "service/");
    return 0;
  }
  if (*action == CommandLineAction::kVersion) {
    std::cout << kProgram << " " << kVersion << "\n";
    return 0;
  }
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) return UsageError(config.status().message());

  absl::StatusOr<std::unique_ptr<TaskServer>> server =
      TaskServer::Start(*std::move(config));
  if (!server.ok()) {
    Log(LogLevel::kError,
        absl::StrCat("cannot start: ", server.status().message()));
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
