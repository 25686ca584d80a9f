// A migration script that fails part-way, on each backend: opening the store
// reports the database's error and the database keeps its version, its data
// and none of the failed script's first statements.

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/schema/migration_scripts.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::HasSubstr;

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

class MigrationRollbackTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void TearDown() override { ::tasks::testing::ReleaseFreshStoreDatabases(); }

  absl::Status Sql(const std::string& statement) {
    return QueryRawSql(GetParam(), connection_, statement).status();
  }

  std::string connection_;
};

TEST_P(MigrationRollbackTest, FailingScriptLeavesVersionAndDataAsTheyWere) {
  const bool sqlite = GetParam() == StoreBackend::kSqlite;
  ASSERT_OK_AND_ASSIGN(connection_,
                       FreshStoreDatabase(GetParam(), StoreLocation::kShared));
  v1::Task task;
  {
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection_));
    ASSERT_OK_AND_ASSIGN(task, store->CreateTask(TaskBuilder("kept"), ""));
  }
  // Back to "version 1" with version 2's objects left but its first one:
  // script 2 makes that one again, then fails on the second, which exists.
  const std::string first_object =
      sqlite ? "tasks_title_not_empty_insert" : "tasks_title_not_empty";
  ASSERT_OK(Sql(sqlite ? "DROP TRIGGER tasks_title_not_empty_insert"
                       : "ALTER TABLE tasks DROP CONSTRAINT "
                         "tasks_title_not_empty"));
  ASSERT_OK(Sql("DELETE FROM schema_migrations WHERE version >= 2"));

  absl::StatusOr<TaskStorePtr> failed = OpenSociTaskStore(connection_);
  std::cout << "FIGURE failed migration: " << failed.status() << "\n";
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kInternal,
                               HasSubstr("already exists")));
  EXPECT_THAT(QueryRawSql(GetParam(), connection_,
                          "SELECT max(version) FROM schema_migrations"),
              IsOkAndHolds("1"));
  const std::string count_first_object =
      sqlite ? "SELECT count(*) FROM sqlite_schema WHERE name = '" +
                   first_object + "'"
             : "SELECT count(*) FROM pg_constraint WHERE conname = '" +
                   first_object + "'";
  EXPECT_THAT(QueryRawSql(GetParam(), connection_, count_first_object),
              IsOkAndHolds("0"));

  // Recorded as applied again, the database opens with its task.
  for (const MigrationScript& script :
       sqlite ? SqliteMigrationScripts() : PostgresMigrationScripts()) {
    if (script.version < 2) continue;
    ASSERT_OK(Sql(absl::StrCat(
        "INSERT INTO schema_migrations (version, description, applied_time) "
        "VALUES (",
        script.version, ", '", script.name, "', 0)")));
  }
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection_));
  EXPECT_THAT(store->GetTask(task.id(), AccessScope::All()),
              IsOkAndHolds(EqualsProto(task)));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, MigrationRollbackTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace
}  // namespace tasks::storage
