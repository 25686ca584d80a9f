#ifndef TASKS_TESTS_TESTING_STORE_BACKENDS_H_
#define TASKS_TESTS_TESTING_STORE_BACKENDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testing/postgres_server.h"

namespace tasks::testing {

// The databases a test suite can be parameterized over.
enum class StoreBackend { kSqlite, kPostgres };

// How a fresh database is reached.
enum class StoreLocation {
  // SQLite `:memory:` (a single connection); a fresh PostgreSQL database.
  kPrivate,
  // A database several stores and pooled connections can open: a new SQLite
  // file under TEST_TMPDIR; a fresh PostgreSQL database.
  kShared,
};

// The environment variable choosing the backends of a test binary: "sqlite",
// "postgres" or both, comma-separated. Unset means both. "pgbouncer" selects
// kPostgres reached through a PgBouncer in transaction pooling mode (see
// PgBouncer), as deployments with many replicas reach it.
inline constexpr char kStoreBackendsEnv[] = "TASKS_TEST_STORE_BACKENDS";

// The backends chosen by kStoreBackendsEnv. An unknown name ends the process
// with a message: a typo must not silently run nothing.
std::vector<StoreBackend> SelectedStoreBackends();

// "Sqlite" or "Postgres", for parameterized test names.
std::string StoreBackendName(StoreBackend backend);

// Prints "Sqlite" / "Postgres" in test failure messages.
void PrintTo(StoreBackend backend, std::ostream* os);

// True when kStoreBackendsEnv selects "pgbouncer".
bool PostgresThroughPgBouncer();

// Registers, once, a GoogleTest environment that starts the PostgreSQL
// server (see PostgresServer), and PgBouncer in front of it when
// PostgresThroughPgBouncer(), before the first test when kPostgres is
// selected, and stops them after the last. Call it at static initialization:
//   const bool kRegistered = RegisterStoreBackendEnvironment();
bool RegisterStoreBackendEnvironment();

// The connection string of a new, empty database (through PgBouncer when
// PostgresThroughPgBouncer()). For kPostgres, an error says why there is no
// server (it is never a reason to skip).
absl::StatusOr<std::string> FreshStoreDatabase(StoreBackend backend,
                                               StoreLocation location);

// For a connection string from FreshStoreDatabase: the same database reached
// directly, past PgBouncer when PostgresThroughPgBouncer() (for what only a
// session of PostgreSQL's own can see, such as its server connections); the
// string itself otherwise.
absl::StatusOr<std::string> PastPgBouncer(const std::string& connection);

// Drops the PostgreSQL databases made by FreshStoreDatabase so far; call it
// from TearDown once the test's stores are closed.
void ReleaseFreshStoreDatabases();

// The PostgreSQL server of this test binary, or why there is none.
absl::StatusOr<PostgresServer*> TestPostgresServer();

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_STORE_BACKENDS_H_
