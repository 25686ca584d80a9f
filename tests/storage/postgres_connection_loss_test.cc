// The store on a PostgreSQL server that goes away and comes back: only a
// server of the test's own can be stopped, so this runs on one (never the
// TASKS_TEST_POSTGRES_URL one, never through PgBouncer, whose own back-off
// decides when it reconnects).

#include <memory>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::PostgresServer;
using ::tasks::testing::PostgresServerOptions;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using Code = ::absl::StatusCode;

TEST(PostgresConnectionLossTest, LostConnectionIsUnavailableThenReconnects) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(PostgresServerOptions());
  ASSERT_TRUE(server.ok()) << "no PostgreSQL server: " << server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(*database);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;
  const AccessScope everything = AccessScope::All();

  absl::StatusOr<v1::Task> task = store.CreateTask(TaskBuilder("survivor"), "");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE((*server)->Stop().ok());
  bool restarted = false;
  absl::Cleanup restart_anyway = [&] {
    if (!restarted) (*server)->Restart().IgnoreError();
  };
  EXPECT_THAT(store.GetTask(task->id(), everything),
              StatusIs(Code::kUnavailable));
  EXPECT_THAT(store.CreateTask(TaskBuilder("lost"), ""),
              ReasonIs(reason::kDatabaseUnavailable));
  EXPECT_THAT(store.CheckHealth(), StatusIs(Code::kUnavailable));
  ASSERT_TRUE((*server)->Restart().ok());
  restarted = true;
  EXPECT_TRUE(store.CheckHealth().ok());
  EXPECT_TRUE(store.GetTask(task->id(), everything).ok());
  EXPECT_TRUE(store.CreateTask(TaskBuilder("after restart"), "").ok());
}

}  // namespace
}  // namespace tasks::storage
