#include "tests/testing/store_backends.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "storage/postgres/postgres_connection.h"
#include "tests/testing/pgbouncer.h"

namespace tasks::testing {
namespace {

// Owns the PostgreSQL server between the first and the last test.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    bool wanted = false;
    for (StoreBackend backend : SelectedStoreBackends()) {
      wanted |= backend == StoreBackend::kPostgres;
    }
    if (!wanted) {
      server_ = absl::FailedPreconditionError(
          "PostgreSQL is not among the selected backends");
      return;
    }
    absl::StatusOr<std::unique_ptr<PostgresServer>> server =
        PostgresServer::Start();
    if (!server.ok()) {
      // Every PostgreSQL test then fails with this message.
      server_ =
          absl::Status(server.status().code(),
                       absl::StrCat("no PostgreSQL server for the tests: ",
                                    server.status().message()));
      return;
    }
    owned_ = std::move(*server);
    server_ = owned_.get();
    if (!PostgresThroughPgBouncer()) return;
    absl::StatusOr<std::unique_ptr<PgBouncer>> bouncer =
        owned_->owned() ? PgBouncer::Start(owned_->port())
                        : absl::FailedPreconditionError(absl::StrCat(
                              "PgBouncer runs in front of the throwaway "
                              "server only: unset ",
                              PostgresServer::kUrlEnv));
    if (!bouncer.ok()) {
      server_ = absl::Status(bouncer.status().code(),
                             absl::StrCat("no PgBouncer for the tests: ",
                                          bouncer.status().message()));
      return;
    }
    bouncer_ = std::move(*bouncer);
  }

  void TearDown() override {
    bouncer_.reset();
    owned_.reset();
    server_ = absl::FailedPreconditionError("PostgreSQL server stopped");
  }

  absl::StatusOr<PostgresServer*> server() const { return server_; }
  const PgBouncer* bouncer() const { return bouncer_.get(); }

 private:
  std::unique_ptr<PostgresServer> owned_;
  std::unique_ptr<PgBouncer> bouncer_;
  absl::StatusOr<PostgresServer*> server_ = absl::FailedPreconditionError(
      "RegisterStoreBackendEnvironment() was not called before the tests");
};

PostgresEnvironment* environment = nullptr;

std::string FreshSqliteFile() {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string base = dir != nullptr && *dir != '\0' ? dir : "/tmp";
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = test != nullptr ? test->name() : "store";
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return absl::StrCat(base, "/", name, "_", getpid(), "_", counter++, ".db");
}

}  // namespace

std::vector<StoreBackend> SelectedStoreBackends() {
  const char* value = std::getenv(kStoreBackendsEnv);
  if (value == nullptr || *value == '\0') {
    return {StoreBackend::kSqlite, StoreBackend::kPostgres};
  }
  std::vector<StoreBackend> backends;
  for (absl::string_view name :
       absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    name = absl::StripAsciiWhitespace(name);
    if (name == "sqlite") {
      backends.push_back(StoreBackend::kSqlite);
    } else if (name == "postgres" || name == "pgbouncer") {
      backends.push_back(StoreBackend::kPostgres);
    } else {
      std::fprintf(
          stderr, "%s: unknown backend '%.*s' (sqlite, postgres, pgbouncer)\n",
          kStoreBackendsEnv, static_cast<int>(name.size()), name.data());
      std::exit(2);
    }
  }
  return backends;
}

bool PostgresThroughPgBouncer() {
  const char* value = std::getenv(kStoreBackendsEnv);
  if (value == nullptr) return false;
  for (absl::string_view name :
       absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    if (absl::StripAsciiWhitespace(name) == "pgbouncer") return true;
  }
  return false;
}

std::string StoreBackendName(StoreBackend backend) {
  switch (backend) {
    case StoreBackend::kSqlite:
      return "Sqlite";
    case StoreBackend::kPostgres:
      return "Postgres";
  }
  return "Unknown";
}

void PrintTo(StoreBackend backend, std::ostream* os) {
  *os << StoreBackendName(backend);
}

bool RegisterStoreBackendEnvironment() {
  if (environment == nullptr) {
    environment = new PostgresEnvironment();
    ::testing::AddGlobalTestEnvironment(environment);  // takes ownership
  }
  return true;
}

absl::StatusOr<PostgresServer*> TestPostgresServer() {
  if (environment == nullptr) {
    return absl::FailedPreconditionError(
        "RegisterStoreBackendEnvironment() was not called before the tests");
  }
  return environment->server();
}

absl::StatusOr<std::string> FreshStoreDatabase(StoreBackend backend,
                                               StoreLocation location) {
  switch (backend) {
    case StoreBackend::kSqlite:
      return location == StoreLocation::kPrivate ? std::string(":memory:")
                                                 : FreshSqliteFile();
    case StoreBackend::kPostgres: {
      absl::StatusOr<PostgresServer*> server = TestPostgresServer();
      if (!server.ok()) return server.status();
      absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
      if (!database.ok() || environment->bouncer() == nullptr) return database;
      absl::StatusOr<std::string> routed =
          PgBouncer::Route(*database, environment->bouncer()->port());
      if (!routed.ok()) return routed;
      // Named statements do not survive transaction pooling.
      return absl::StrCat(*routed, "?", storage::kPreparedStatementsOption,
                          "=off");
    }
  }
  return absl::InvalidArgumentError("unknown backend");
}

absl::StatusOr<std::string> PastPgBouncer(const std::string& connection) {
  absl::StatusOr<PostgresServer*> server = TestPostgresServer();
  if (!server.ok() || environment->bouncer() == nullptr) return connection;
  absl::StatusOr<storage::PostgresConnection> parsed =
      storage::ParsePostgresConnection(connection);
  if (!parsed.ok()) return parsed.status();
  // Route() keeps the database and user: routed to the server's own port.
  return PgBouncer::Route(parsed->libpq, (*server)->port());
}

void ReleaseFreshStoreDatabases() {
  absl::StatusOr<PostgresServer*> server = TestPostgresServer();
  if (!server.ok()) return;
  absl::Status status = (*server)->DropFreshDatabases();
  if (!status.ok()) ADD_FAILURE() << "dropping test databases: " << status;
}

}  // namespace tasks::testing
