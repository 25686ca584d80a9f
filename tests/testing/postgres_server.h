#ifndef TASKS_TESTS_TESTING_POSTGRES_SERVER_H_
#define TASKS_TESTS_TESTING_POSTGRES_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tasks::testing {

// How a throwaway server runs (PostgresServer::StartOwned).
struct PostgresServerOptions {
  // Keep PostgreSQL's durable defaults (fsync, full_page_writes): every
  // commit is on disk before it is acknowledged, as a SQLite file with
  // synchronous=FULL, which is what benchmarks compare. Otherwise fsync and
  // full_page_writes are off: test data need not survive a machine crash,
  // and commits still survive an immediate stop (synchronous_commit stays
  // on), as fault tests need.
  bool durable = false;

  // Listen only on a Unix socket in the server's directory (connection
  // strings name that directory as host), not on 127.0.0.1: no port to
  // find, none to collide with. Otherwise on a free 127.0.0.1 port.
  bool unix_socket_only = false;

  // PostgreSQL's max_connections: room for several pooled stores at once.
  int max_connections = 200;

  // When set (PEM files), TCP connections may use TLS (ssl=on) with this
  // certificate and key, copied into the server's directory (PostgreSQL
  // wants its key private to it). Clients ask for it with sslmode=require.
  std::string tls_cert_path;
  std::string tls_key_path;
};

// PostgresServer
//
// A PostgreSQL server for tests and benchmarks. Start(): when the environment
// variable TASKS_TEST_POSTGRES_URL names a server (a libpq URL or keyword
// string), that server is used as is; otherwise a throwaway one is created
// with the default options. StartOwned() always creates a throwaway server:
// initdb and pg_ctl from /usr/lib/postgresql/15/bin, in a fresh directory
// under /tmp (see PostgresServerOptions for how it listens and how durable
// it is). When running as root the server runs as the `postgres` system
// user, since initdb and postgres refuse root. The destructor stops an owned
// server and removes its directory (and so do the process's exit handlers,
// for a server never destroyed).
//
// Failing to provide a server is an error whose message says why (a missing
// binary, runuser failing, no free port, the server log's last lines); tests
// must fail on it, never skip.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PostgresServer>> server =
//       PostgresServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   absl::StatusOr<std::string> db = (*server)->CreateFreshDatabase();
class PostgresServer {
 public:
  // The environment variable naming an existing server.
  static constexpr char kUrlEnv[] = "TASKS_TEST_POSTGRES_URL";

  // Uses the server named by kUrlEnv, or starts a throwaway one with the
  // default options. Either way the server accepts connections when this
  // returns OK.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  // Starts a throwaway server run as `options` say, whatever kUrlEnv names
  // (a benchmark measures a server it knows). It accepts connections when
  // this returns OK.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> StartOwned(
      PostgresServerOptions options);

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Stops an owned server (immediate mode) and removes its directory; on an
  // external server, drops the databases CreateFreshDatabase made.
  ~PostgresServer();

  // Connection string of the server's administrative database ("postgres"
  // for an owned server, the URL as given for an external one).
  const std::string& connection_string() const { return admin_connection_; }

  // True when this object started the server (false for kUrlEnv).
  bool owned() const { return !data_dir_.empty(); }

  // The cluster's data directory; empty for an external server.
  const std::string& data_dir() const { return data_dir_; }

  // The TCP port of an owned server; 0 for an external one or one on a Unix
  // socket only.
  int port() const { return port_; }

  // Creates a new, empty database named `name` (UTF8, C collation) and
  // returns its connection string; INTERNAL when the server refuses (the
  // name is taken, say). Thread-safe.
  absl::StatusOr<std::string> CreateDatabase(absl::string_view name);

  // CreateDatabase with a name unique across processes, for per-test
  // isolation; the destructor (or DropFreshDatabases) drops it again.
  // Thread-safe.
  absl::StatusOr<std::string> CreateFreshDatabase();

  // Drops every database CreateFreshDatabase made, disconnecting its users.
  absl::Status DropFreshDatabases();

  // Stops an owned server at once (`pg_ctl stop -m immediate`, as a crash
  // would). FAILED_PRECONDITION on an external server.
  absl::Status Stop();

  // Starts a stopped owned server again, on the same port and data, and waits
  // until it accepts connections. FAILED_PRECONDITION on an external server.
  absl::Status Restart();

  // True while the server accepts connections (libpq PQping).
  bool IsAcceptingConnections() const;

 private:
  PostgresServer() = default;

  static absl::StatusOr<std::unique_ptr<PostgresServer>> UseExternal(
      absl::string_view url);

  // At process exit, stops and removes the owned servers still alive, in
  // case their owner never destroys them (a leaked function-local static).
  static void CleanUpAtExit();

  // Stops an owned server and removes its directory, once.
  void CleanUp();

  // Runs initdb in base_dir_ and fills data_dir_.
  absl::Status InitCluster();

  // Starts the postmaster (on port_ unless on a Unix socket only) and waits
  // for it to accept connections.
  absl::Status StartPostmaster();

  // Copies the TLS certificate and key into base_dir_, private to the
  // server's user.
  absl::Status InstallTlsFiles();

  // Runs a PostgreSQL binary (as the postgres user when root) with its output
  // appended to `log_path`; returns its exit status or why it could not run.
  absl::Status RunPostgresTool(const std::string& tool,
                               const std::vector<std::string>& args,
                               const std::string& log_path) const;

  // Waits up to `timeout_seconds` for PQping to answer PQPING_OK.
  absl::Status WaitUntilAccepting(int timeout_seconds) const;

  // Runs one SQL command on the administrative database.
  absl::Status ExecuteAdmin(const std::string& sql) const;

  // Connection string for database `name` on this server.
  std::string ConnectionFor(absl::string_view name) const;

  // Where an owned server listens, for messages.
  std::string Address() const;

  PostgresServerOptions options_;
  std::string admin_connection_;
  std::string base_dir_;  // owned: /tmp/pgXXXXXX (socket, log, data/)
  std::string data_dir_;  // owned: base_dir_/data
  std::string log_path_;  // owned: base_dir_/server.log
  int port_ = 0;
  bool running_ = false;
  bool cleaned_up_ = false;

  absl::Mutex mutex_;
  int next_database_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<std::string> fresh_databases_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_POSTGRES_SERVER_H_
