#include "api/connection_string.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tasks::api {
namespace {

TEST(ClassifyConnectionTest, PostgresUrlsAndKeywordStrings) {
  for (const char* connection :
       {"postgresql://u@db:5432/tasks", "postgres://db/tasks", "postgresql://",
        "host=/run/postgresql dbname=t", "dbname=tasks", "  host=db",
        "host = db", "host\t=db", "_opt=1", "x=y.db"}) {
    EXPECT_EQ(ClassifyConnection(connection), DatabaseKind::kPostgres)
        << "\"" << connection << "\"";
  }
}

// A '=' later in a path does not make a keyword string: the first word must
// be a keyword (letters and '_') followed by '='.
TEST(ClassifyConnectionTest, SqliteFilesEvenWithAnEqualsSign) {
  for (const char* connection :
       {"tasks.db", "/var/lib/tasks/tasks.db", ":memory:", "", "./x=y.db",
        "../x=y.db", "/tmp/x=y.db", "data/a=b.db", "my db=1.db", "a1=b.db",
        "=x.db", ".=x", "-x=y", "POSTGRESQL://db/tasks", "postgresql:/db/tasks",
        "file:tasks.db?mode=ro"}) {
    EXPECT_EQ(ClassifyConnection(connection), DatabaseKind::kSqlite)
        << "\"" << connection << "\"";
  }
}

// Taken for SQLite files, these would put the data in a file of that name
// where another database was meant.
TEST(CheckNotMistypedUrlTest, DatabaseSchemesThatAreNoLibpqUrlAreRefused) {
  for (const char* connection :
       {"postgresql:/db/tasks", "postgres:db", "postgresql:", "POSTGRESQL://db",
        "Postgres://db/tasks", "sqlite:tasks.db", "sqlite:///var/tasks.db",
        "SQLite3:tasks.db", "postgresql:/u:secret@db/tasks"}) {
    const absl::Status status = CheckNotMistypedUrl(connection);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << "\"" << connection << "\"";
    EXPECT_TRUE(absl::StrContains(status.message(), "put ./ before it"))
        << status;
    EXPECT_FALSE(absl::StrContains(status.message(), "secret")) << status;
  }
  for (const char* connection :
       {"postgresql://u@db/tasks", "postgres://db", "host=db dbname=t",
        "tasks.db", "./postgresql:db", "/tmp/sqlite:x.db", ":memory:",
        "file:tasks.db?mode=ro", "postgresqlish.db", "sqlite.db", ""}) {
    EXPECT_TRUE(CheckNotMistypedUrl(connection).ok())
        << "\"" << connection << "\"";
  }
}

}  // namespace
}  // namespace tasks::api
