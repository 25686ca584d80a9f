// The race that CreateTask's replay of a request_id answers with ABORTED
// (soci_task_store.cc, ReplayedTask): the insert finds the request_id taken,
// and the task holding it is deleted before the replay reads it. A
// statement-level trigger, run right after the store's insert and committed
// with it, deletes the task in that window every time. PostgreSQL only:
// SQLite has no statement-level triggers (its row triggers do not fire for an
// insert that does nothing). There the window is open only to another
// process on the same file: within one, the group committer runs one write at
// a time.

#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

// A store on a fresh PostgreSQL database, and SQL on that database past it.
class RequestIdReplayRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> connection =
        ::tasks::testing::FreshStoreDatabase(
            kPostgres, ::tasks::testing::StoreLocation::kShared);
    ASSERT_OK(connection);
    connection_ = *connection;
    absl::StatusOr<TaskStorePtr> store = OpenSociTaskStore(connection_);
    ASSERT_OK(store);
    store_ = *std::move(store);
  }

  void TearDown() override {
    store_.reset();
    ::tasks::testing::ReleaseFreshStoreDatabases();
  }

  absl::Status Sql(const std::string& statement) {
    return ::tasks::testing::QueryRawSql(kPostgres, connection_, statement)
        .status();
  }

  static constexpr auto kPostgres = ::tasks::testing::StoreBackend::kPostgres;
  std::string connection_;
  TaskStorePtr store_;
};

TEST_F(RequestIdReplayRaceTest, TaskDeletedBeforeReplayIsAbortedThenRetried) {
  const v1::Task draft = TaskBuilder("kept once");
  ASSERT_OK_AND_ASSIGN(v1::Task first, store_->CreateTask(draft, "req-1"));
  // The replay finds the task while nothing deletes it.
  ASSERT_OK_AND_ASSIGN(v1::Task replayed, store_->CreateTask(draft, "req-1"));
  EXPECT_EQ(replayed.id(), first.id());

  for (const std::string& sql : {
           absl::StrCat("CREATE FUNCTION delete_first() RETURNS trigger "
                        "LANGUAGE plpgsql AS $$ BEGIN DELETE FROM tasks "
                        "WHERE id = ",
                        first.id(), "; RETURN NULL; END $$"),
           std::string("CREATE TRIGGER delete_first AFTER INSERT ON tasks "
                       "FOR EACH STATEMENT EXECUTE FUNCTION delete_first()"),
       }) {
    ASSERT_OK(Sql(sql));
  }
  absl::StatusOr<v1::Task> raced = store_->CreateTask(draft, "req-1");
  std::cout << "FIGURE replay of a task deleted meanwhile: " << raced.status()
            << "\n";
  EXPECT_THAT(raced, StatusIs(absl::StatusCode::kAborted,
                              ::testing::HasSubstr("retry")));

  // The retry the message asks for: the request_id is free again.
  ASSERT_OK_AND_ASSIGN(v1::Task retried, store_->CreateTask(draft, "req-1"));
  EXPECT_NE(retried.id(), first.id());
  EXPECT_EQ(retried.title(), draft.title());
}

}  // namespace
}  // namespace tasks::storage
