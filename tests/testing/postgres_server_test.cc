#include "tests/testing/postgres_server.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"

namespace tasks::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs `sql` on its own connection to `connection`: the first value of the
// first row ("" for a command), UNAVAILABLE when no connection, INTERNAL for
// an error.
absl::StatusOr<std::string> Query(const std::string& connection,
                                  const std::string& sql) {
  return QueryRawSql(StoreBackend::kPostgres, connection, sql);
}

class PostgresServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<PostgresServer>> server =
        PostgresServer::Start();
    start_status_ = new absl::Status(server.status());
    if (server.ok()) server_ = server->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete start_status_;
    start_status_ = nullptr;
  }

  void SetUp() override { ASSERT_OK(*start_status_); }

  static PostgresServer& server() { return *server_; }

 private:
  static PostgresServer* server_;
  static absl::Status* start_status_;
};

PostgresServer* PostgresServerTest::server_ = nullptr;
absl::Status* PostgresServerTest::start_status_ = nullptr;

TEST_F(PostgresServerTest, StartedServerAcceptsConnectionsAsUtf8) {
  EXPECT_TRUE(server().IsAcceptingConnections());
  EXPECT_THAT(Query(server().connection_string(), "SHOW server_encoding"),
              IsOkAndHolds("UTF8"));
}

TEST_F(PostgresServerTest, OwnedServerListensOnLoopbackPortWithDataDir) {
  if (!server().owned()) {
    EXPECT_EQ(server().port(), 0);
    EXPECT_EQ(server().data_dir(), "");
    return;
  }
  EXPECT_GT(server().port(), 0);
  EXPECT_THAT(server().connection_string(),
              HasSubstr(absl::StrCat("127.0.0.1:", server().port())));
  EXPECT_THAT(Query(server().connection_string(), "SHOW data_directory"),
              IsOkAndHolds(server().data_dir()));
  EXPECT_THAT(Query(server().connection_string(), "SHOW fsync"),
              IsOkAndHolds("off"));
}

TEST_F(PostgresServerTest, FreshDatabasesAreEmptyAndIndependent) {
  ASSERT_OK_AND_ASSIGN(std::string first, server().CreateFreshDatabase());
  ASSERT_OK_AND_ASSIGN(std::string second, server().CreateFreshDatabase());
  EXPECT_NE(first, second);

  EXPECT_THAT(Query(first,
                    "SELECT count(*) FROM pg_tables WHERE schemaname = "
                    "'public'"),
              IsOkAndHolds("0"));
  ASSERT_OK(Query(first, "CREATE TABLE t (x int)"));
  EXPECT_OK(Query(first, "SELECT count(*) FROM t"));
  EXPECT_THAT(Query(second, "SELECT count(*) FROM t"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("t")));
  EXPECT_THAT(Query(first, "SHOW lc_collate"), IsOkAndHolds("C"));
}

TEST_F(PostgresServerTest, DropFreshDatabasesRemovesThem) {
  ASSERT_OK_AND_ASSIGN(std::string database, server().CreateFreshDatabase());
  ASSERT_OK(Query(database, "SELECT 1"));
  ASSERT_OK(server().DropFreshDatabases());
  EXPECT_THAT(Query(database, "SELECT 1"), Not(IsOk()));
}

TEST_F(PostgresServerTest, StopRefusesConnectionsAndRestartKeepsDataAndPort) {
  ASSERT_OK_AND_ASSIGN(std::string database, server().CreateFreshDatabase());
  ASSERT_OK(Query(database, "CREATE TABLE kept (x int)"));
  ASSERT_OK(Query(database, "INSERT INTO kept VALUES (42)"));
  if (!server().owned()) {
    EXPECT_THAT(server().Stop(),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(server().Restart(),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    return;
  }
  const int port = server().port();

  ASSERT_OK(server().Stop());
  EXPECT_FALSE(server().IsAcceptingConnections());
  EXPECT_THAT(Query(database, "SELECT 1"),
              StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(server().Restart());
  EXPECT_EQ(server().port(), port);
  EXPECT_TRUE(server().IsAcceptingConnections());
  EXPECT_THAT(Query(database, "SELECT x FROM kept"), IsOkAndHolds("42"));
}

// The benchmarks' server: durable, on a Unix socket only, a throwaway one
// even when TASKS_TEST_POSTGRES_URL names another.
TEST(PostgresServerOptionsTest, DurableUnixSocketServerIgnoresTheUrl) {
  const char* url = std::getenv(PostgresServer::kUrlEnv);
  const std::string saved = url != nullptr ? url : "";
  // Nothing listens there: using it would fail.
  setenv(PostgresServer::kUrlEnv, "postgresql://nobody@127.0.0.1:1/none", 1);
  PostgresServerOptions options;
  options.durable = true;
  options.unix_socket_only = true;
  options.max_connections = 37;
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(options);
  if (url != nullptr) {
    setenv(PostgresServer::kUrlEnv, saved.c_str(), 1);
  } else {
    unsetenv(PostgresServer::kUrlEnv);
  }
  ASSERT_OK(server.status());
  EXPECT_TRUE((*server)->owned());
  EXPECT_EQ((*server)->port(), 0);
  const std::string& admin = (*server)->connection_string();
  EXPECT_THAT(admin, HasSubstr("host=/tmp/"));
  EXPECT_THAT(Query(admin, "SHOW listen_addresses"), IsOkAndHolds(""));
  EXPECT_THAT(Query(admin, "SHOW fsync"), IsOkAndHolds("on"));
  EXPECT_THAT(Query(admin, "SHOW full_page_writes"), IsOkAndHolds("on"));
  EXPECT_THAT(Query(admin, "SHOW max_connections"), IsOkAndHolds("37"));

  ASSERT_OK_AND_ASSIGN(std::string database,
                       (*server)->CreateDatabase("bench_scale"));
  EXPECT_THAT(Query(database, "SELECT current_database()"),
              IsOkAndHolds("bench_scale"));
  EXPECT_THAT(Query(database, "SHOW server_encoding"), IsOkAndHolds("UTF8"));
  EXPECT_THAT((*server)->CreateDatabase("bench_scale"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("exists")));
}

TEST(PostgresServerExitTest, LeakedServerIsStoppedAndRemovedAtExit) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Started and never destroyed, like a function-local static.
    close(pipe_fds[0]);
    absl::StatusOr<std::unique_ptr<PostgresServer>> server =
        PostgresServer::Start();
    std::string line = server.ok() ? "ok " + (*server)->data_dir()
                                   : "error " + server.status().ToString();
    (void)!write(pipe_fds[1], line.data(), line.size());
    close(pipe_fds[1]);
    if (server.ok()) server->release();
    std::exit(0);
  }
  close(pipe_fds[1]);
  std::string line;
  char buffer[512];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    line.append(buffer, n);
  }
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  ASSERT_EQ(line.substr(0, 3), "ok ") << line;
  const std::string data_dir = line.substr(3);
  if (data_dir.empty()) return;  // an external server: nothing to remove
  struct stat info;
  EXPECT_NE(stat(data_dir.c_str(), &info), 0) << data_dir << " still exists";
}

}  // namespace
}  // namespace tasks::testing
