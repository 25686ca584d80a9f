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

}  // namespace
}  // namespace tasks::service
