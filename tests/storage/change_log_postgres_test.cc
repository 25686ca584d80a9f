// The change log on PostgreSQL only: the plans of its statements (SQLite
// has no such planner) and the LISTEN connection (direct connections only:
// behind PgBouncer there is none). The behaviour both backends share is in
// task_store_changes_test.cc.

#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/engine/dialect.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/soci_task_store.h"
#include "storage/sql/queries.h"
#include "storage/task_store.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using Code = ::absl::StatusCode;

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

// Drops each test's databases.
class ChangeLogPostgresTest : public ::testing::Test {
 protected:
  void TearDown() override { ::tasks::testing::ReleaseFreshStoreDatabases(); }
};

// PostgreSQL's plan of the store's statement `sql` (named parameters
// replaced by `values`) on `connection`, as EXPLAIN's JSON.
absl::StatusOr<std::string> PostgresPlan(
    const std::string& connection, absl::string_view sql,
    const std::vector<std::pair<std::string, std::string>>& values) {
  return QueryRawSql(
      StoreBackend::kPostgres, connection,
      absl::StrCat("EXPLAIN (FORMAT JSON) ", absl::StrReplaceAll(sql, values)));
}

TEST_F(ChangeLogPostgresTest, ReadChangesIsPlannedAsOnePageAtMost) {
  // The plan's estimate of the rows a read returns: at most a page. An
  // estimate of thousands of bounds rows times the page took the read past
  // jit_above_cost as the log grew: 10 ms of JIT compilation per read, the
  // change feed's every read (WatchTasks events 20-40 ms late at 1,000
  // writes/s). SQLite has no such planner.
  ASSERT_OK_AND_ASSIGN(
      std::string connection,
      FreshStoreDatabase(StoreBackend::kPostgres, StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Dialect> dialect,
                       MakePostgresDialect(connection, absl::Seconds(5)));
  const Queries queries(*dialect);
  constexpr int kPage = 1000;
  ASSERT_OK_AND_ASSIGN(
      std::string plan,
      PostgresPlan(connection, queries.read_changes,
                   {{":after_number", "0"}, {":limit", absl::StrCat(kPage)}}));
  // The top node's estimate, the first in the JSON.
  const std::string key = "\"Plan Rows\": ";
  const size_t at = plan.find(key);
  ASSERT_NE(at, std::string::npos) << plan;
  std::string number = plan.substr(at + key.size());
  number.resize(number.find_first_of(",\n"));
  double rows = 0;
  ASSERT_TRUE(absl::SimpleAtod(number, &rows)) << plan;
  std::cout << "FIGURE ReadChanges of a " << kPage << "-change page planned at "
            << rows << " rows\n";
  EXPECT_LE(rows, kPage + 1);
}

TEST_F(ChangeLogPostgresTest, NumberingFindsItsChangesByIndex) {
  // A numbering run must not read the whole log: it did, hashing every
  // change to join the few it numbers (3 ms per run with 7,500 changes,
  // growing with the log until the planner turned to the index).
  ASSERT_OK_AND_ASSIGN(
      std::string connection,
      FreshStoreDatabase(StoreBackend::kPostgres, StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenSociTaskStore(connection));
  ASSERT_OK(QueryRawSql(StoreBackend::kPostgres, connection,
                        "INSERT INTO tasks (title) SELECT 't' || i FROM "
                        "generate_series(1, 5000) AS i"));
  ASSERT_OK(store->SequenceChanges().status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Dialect> dialect,
                       MakePostgresDialect(connection, absl::Seconds(5)));
  const Queries queries(*dialect);
  ASSERT_OK_AND_ASSIGN(std::string plan,
                       PostgresPlan(connection, queries.sequence_changes,
                                    {{":sender", "'test'"}}));
  const std::regex log_scan(
      "\"Node Type\": \"Seq Scan\",[^}]*\"Relation Name\": \"task_changes\"");
  EXPECT_FALSE(std::regex_search(plan, log_scan)) << plan;
}

TEST_F(ChangeLogPostgresTest,
       WaitForChangesReconnectsAfterItsConnectionIsLost) {
  ASSERT_OK_AND_ASSIGN(
      std::string connection,
      FreshStoreDatabase(StoreBackend::kPostgres, StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr watcher, OpenSociTaskStore(connection));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr writer, OpenSociTaskStore(connection));
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(5)), IsOkAndHolds(true));
  EXPECT_THAT(
      QueryRawSql(StoreBackend::kPostgres, connection,
                  "SELECT count(pg_terminate_backend(pid)) FROM "
                  "pg_stat_activity WHERE datname = current_database() AND "
                  "query = 'LISTEN task_changes'"),
      IsOkAndHolds("1"));
  const absl::StatusOr<bool> lost = watcher->WaitForChanges(absl::Seconds(10));
  std::cout << "FIGURE WaitForChanges on a terminated connection: "
            << lost.status() << "\n";
  EXPECT_THAT(lost, StatusIs(Code::kUnavailable));
  // The next call connects again, and says so; then it listens again.
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(5)), IsOkAndHolds(true));
  ASSERT_OK(writer->CreateTask(TaskBuilder("after"), "").status());
  ASSERT_OK(writer->SequenceChanges().status());
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(10)), IsOkAndHolds(true));
}

// A server of the version before 0007 numbers with the one-argument
// function, whose NOTIFY names no sender: every server heeds it.
TEST_F(ChangeLogPostgresTest, NumberingOfThePreviousVersionSignalsEveryone) {
  ASSERT_OK_AND_ASSIGN(
      std::string connection,
      FreshStoreDatabase(StoreBackend::kPostgres, StoreLocation::kShared));
  ASSERT_OK_AND_ASSIGN(TaskStorePtr watcher, OpenSociTaskStore(connection));
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(5)), IsOkAndHolds(true));
  ASSERT_OK(watcher->CreateTask(TaskBuilder("old server"), "").status());
  EXPECT_THAT(QueryRawSql(StoreBackend::kPostgres, connection,
                          "SELECT number_task_changes(100)"),
              IsOkAndHolds("1"));
  EXPECT_THAT(watcher->WaitForChanges(absl::Seconds(10)), IsOkAndHolds(true));
}

}  // namespace
}  // namespace tasks::storage
