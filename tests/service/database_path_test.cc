#include "service/database_path.h"

#include "gtest/gtest.h"

namespace tasks::service {
namespace {

TEST(IsDatabaseServerConnectionTest, PostgresFormsAreServers) {
  EXPECT_TRUE(IsDatabaseServerConnection("postgresql://u@db:5432/tasks"));
  EXPECT_TRUE(IsDatabaseServerConnection("postgres://db/tasks"));
  EXPECT_TRUE(IsDatabaseServerConnection("host=/run/postgresql dbname=t"));
}

TEST(IsDatabaseServerConnectionTest, SqliteFormsAreNot) {
  EXPECT_FALSE(IsDatabaseServerConnection("tasks.db"));
  EXPECT_FALSE(IsDatabaseServerConnection("/var/lib/tasks/tasks.db"));
  EXPECT_FALSE(IsDatabaseServerConnection(":memory:"));
  EXPECT_FALSE(IsDatabaseServerConnection(""));
}

TEST(ResolveDatabasePathTest, RelativeSqlitePathIsJoinedToWorkingDirectory) {
  EXPECT_EQ(ResolveDatabasePath("tasks.db", "/home/me"), "/home/me/tasks.db");
  EXPECT_EQ(ResolveDatabasePath("data/t.db", "/home/me/"),
            "/home/me/data/t.db");
}

TEST(ResolveDatabasePathTest, WithoutWorkingDirectoryPathIsUnchanged) {
  EXPECT_EQ(ResolveDatabasePath("tasks.db", ""), "tasks.db");
}

TEST(ResolveDatabasePathTest, NonRelativeFormsAreUnchanged) {
  for (const char* db :
       {"/var/lib/tasks.db", ":memory:", "postgresql://u@h:5432/db",
        "postgres://u@h/db", "host=/run/postgresql dbname=tasks"}) {
    EXPECT_EQ(ResolveDatabasePath(db, "/home/me"), db);
  }
}

// The store opens these as SQLite files (api::ClassifyConnection), so a '='
// in a relative path must not stop it being resolved.
TEST(ResolveDatabasePathTest, RelativeSqlitePathWithEqualsSignIsResolved) {
  EXPECT_FALSE(IsDatabaseServerConnection("./x=y.db"));
  EXPECT_EQ(ResolveDatabasePath("./x=y.db", "/home/me"), "/home/me/./x=y.db");
  EXPECT_EQ(ResolveDatabasePath("data/a=b.db", "/home/me"),
            "/home/me/data/a=b.db");
  EXPECT_EQ(ResolveDatabasePath("my db=1.db", "/home/me"),
            "/home/me/my db=1.db");
  EXPECT_EQ(ResolveDatabasePath("/tmp/x=y.db", "/home/me"), "/tmp/x=y.db");
}

TEST(ResolveDatabasePathTest, KeywordStringsStayServers) {
  for (const char* db : {"dbname=tasks", "  host=db", "host = db port=5432"}) {
    EXPECT_TRUE(IsDatabaseServerConnection(db)) << db;
    EXPECT_EQ(ResolveDatabasePath(db, "/home/me"), db);
  }
}

}  // namespace
}  // namespace tasks::service
