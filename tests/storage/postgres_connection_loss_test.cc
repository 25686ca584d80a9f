// The store on a PostgreSQL server that goes away and comes back: only a
// server of the test's own can be stopped, so this runs on one (never the
// TASKS_TEST_POSTGRES_URL one, never through PgBouncer, whose own back-off
// decides when it reconnects).

#include <atomic>
#include <iostream>
#include <optional>
#include <memory>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/raw_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::PostgresServer;
using ::tasks::testing::PostgresServerOptions;
using ::tasks::testing::QueryRawSql;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StoreBackend;
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

// TryGetTaskAsync's answer, retried until the store takes the call (its
// reader connects on first use, and again after a loss) or `within` passes.
std::optional<absl::StatusOr<v1::Task>> GetAsync(TaskStore& store, int64_t id,
                                                 absl::Duration within) {
  const absl::Time give_up = absl::Now() + within;
  do {
    absl::Notification done;
    absl::StatusOr<v1::Task> result;
    if (store.TryGetTaskAsync(id, AccessScope::All(), absl::InfiniteFuture(),
                              [&](absl::StatusOr<v1::Task> task) {
                                result = std::move(task);
                                done.Notify();
                              })) {
      if (!done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
        return absl::DeadlineExceededError("no answer within 30 s");
      }
      return result;
    }
    absl::SleepFor(absl::Milliseconds(10));
  } while (absl::Now() < give_up);
  return std::nullopt;
}

// The reader's connections are terminated (pg_terminate_backend) again and
// again while reads are in flight: every read is answered (once more on a
// new connection, else UNAVAILABLE), none is lost, and reads work after.
TEST(PostgresConnectionLossTest, AsyncReadsSurviveTerminatedConnections) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(PostgresServerOptions());
  ASSERT_TRUE(server.ok()) << "no PostgreSQL server: " << server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(*database);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;
  absl::StatusOr<v1::Task> task = store.CreateTask(TaskBuilder("read"), "");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(GetAsync(store, task->id(), absl::Seconds(10)).has_value());

  std::atomic<bool> stop{false};
  std::atomic<int> kills{0};
  std::thread killer([&] {
    while (!stop.load()) {
      if (QueryRawSql(StoreBackend::kPostgres, *database,
                      "SELECT count(pg_terminate_backend(pid)) FROM "
                      "pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")
              .ok()) {
        ++kills;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  constexpr int kReads = 3000;
  absl::Mutex mu;
  int answered = 0, ok = 0, unavailable = 0, other = 0, declined = 0;
  for (int i = 0; i < kReads; ++i) {
    const bool taken = store.TryGetTaskAsync(
        task->id(), AccessScope::All(), absl::InfiniteFuture(),
        [&](absl::StatusOr<v1::Task> got) {
          absl::MutexLock lock(&mu);
          ++answered;
          if (got.ok() && got->title() == "read") {
            ++ok;
          } else if (got.status().code() == absl::StatusCode::kUnavailable) {
            ++unavailable;
          } else {
            ++other;
          }
        });
    if (!taken) {
      absl::MutexLock lock(&mu);
      ++answered;
      ++declined;
    }
    if (i % 100 == 0) absl::SleepFor(absl::Milliseconds(5));
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(+[](int* n) { return *n == kReads; }, &answered),
        absl::Seconds(30)))
        << answered << " of " << kReads << " reads answered";
    EXPECT_EQ(other, 0);
    EXPECT_GT(ok, 0);
    std::cout << "FIGURE " << kReads << " async reads with " << kills.load()
              << " rounds of terminated connections: " << ok << " ok, "
              << unavailable << " UNAVAILABLE, " << declined
              << " declined (no connection up)\n";
  }
  stop = true;
  killer.join();
  std::optional<absl::StatusOr<v1::Task>> after =
      GetAsync(store, task->id(), absl::Seconds(10));
  ASSERT_TRUE(after.has_value()) << "the reader never reconnected";
  EXPECT_TRUE(after->ok()) << after->status();
}

// Writes whose connection is terminated under them are answered (committed,
// or UNAVAILABLE) and never sent twice: no task is created twice, and every
// acknowledged one is stored.
TEST(PostgresConnectionLossTest, AsyncWritesAreNeverRepeated) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(PostgresServerOptions());
  ASSERT_TRUE(server.ok()) << "no PostgreSQL server: " << server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(*database);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;
  absl::StatusOr<v1::Task> probe = store.CreateTask(TaskBuilder("probe"), "");
  ASSERT_TRUE(probe.ok()) << probe.status();
  ASSERT_TRUE(GetAsync(store, probe->id(), absl::Seconds(10)).has_value());

  std::atomic<bool> stop{false};
  std::thread killer([&] {
    while (!stop.load()) {
      (void)QueryRawSql(StoreBackend::kPostgres, *database,
                        "SELECT count(pg_terminate_backend(pid)) FROM "
                        "pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()");
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  // Tasks without a project: no unique title would refuse a second insert.
  constexpr int kWrites = 3000;
  absl::Mutex mu;
  int answered = 0, ok = 0, unavailable = 0, other = 0;
  for (int i = 0; i < kWrites; ++i) {
    const bool taken = store.TryCreateTaskAsync(
        TaskBuilder(absl::StrCat("w", i)).Build(), "", Idempotency(),
        absl::InfiniteFuture(), [&](absl::StatusOr<v1::Task> got) {
          absl::MutexLock lock(&mu);
          ++answered;
          if (got.ok()) {
            ++ok;
          } else if (got.status().code() == absl::StatusCode::kUnavailable) {
            ++unavailable;
          } else {
            ++other;
          }
        });
    if (!taken) {
      absl::MutexLock lock(&mu);
      ++answered;
    }
    if (i % 50 == 0) absl::SleepFor(absl::Milliseconds(2));
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(+[](int* n) { return *n == kWrites; }, &answered),
        absl::Seconds(30)))
        << answered << " of " << kWrites << " writes answered";
  }
  stop = true;
  killer.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(other, 0);
  EXPECT_GT(ok, 0);
  absl::StatusOr<std::string> twice = QueryRawSql(
      StoreBackend::kPostgres, *database,
      "SELECT count(*) FROM (SELECT title FROM tasks GROUP BY title "
      "HAVING count(*) > 1) AS repeated");
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_EQ(*twice, "0") << "a write was sent twice";
  absl::StatusOr<std::string> stored =
      QueryRawSql(StoreBackend::kPostgres, *database,
                  "SELECT count(*) FROM tasks WHERE title LIKE 'w%'");
  ASSERT_TRUE(stored.ok()) << stored.status();
  int64_t rows = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*stored, &rows));
  // Every acknowledged write is stored; an UNAVAILABLE one may be.
  EXPECT_GE(rows, ok);
  EXPECT_LE(rows, ok + unavailable);
  std::cout << "FIGURE " << kWrites << " async writes under terminated "
            << "connections: " << ok << " committed, " << unavailable
            << " UNAVAILABLE, " << rows << " stored\n";
}

// The server stops: async reads are declined or UNAVAILABLE, never hung;
// once it is back, they work again.
TEST(PostgresConnectionLossTest, AsyncReadsResumeAfterRestart) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(PostgresServerOptions());
  ASSERT_TRUE(server.ok()) << "no PostgreSQL server: " << server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(*database);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;
  absl::StatusOr<v1::Task> task = store.CreateTask(TaskBuilder("kept"), "");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(GetAsync(store, task->id(), absl::Seconds(10)).has_value());

  ASSERT_TRUE((*server)->Stop().ok());
  bool restarted = false;
  absl::Cleanup restart_anyway = [&] {
    if (!restarted) (*server)->Restart().IgnoreError();
  };
  std::optional<absl::StatusOr<v1::Task>> down =
      GetAsync(store, task->id(), absl::Seconds(1));
  if (down.has_value()) {
    EXPECT_THAT(*down, ReasonIs(reason::kDatabaseUnavailable));
  }
  ASSERT_TRUE((*server)->Restart().ok());
  restarted = true;
  std::optional<absl::StatusOr<v1::Task>> back =
      GetAsync(store, task->id(), absl::Seconds(10));
  ASSERT_TRUE(back.has_value()) << "the reader never reconnected";
  // The first read may find a connection the restart broke: once more.
  if (!back->ok()) back = GetAsync(store, task->id(), absl::Seconds(10));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->ok()) << back->status();
}

}  // namespace
}  // namespace tasks::storage
