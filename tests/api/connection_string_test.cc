#include "api/connection_string.h"

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

}  // namespace
}  // namespace tasks::api
