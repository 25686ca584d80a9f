// The store on a PostgreSQL server that goes away and comes back: only a
// server of the test's own can be stopped, so this runs on one (never the
// TASKS_TEST_POSTGRES_URL one, never through PgBouncer, whose own back-off
// decides when it reconnects).

#include <atomic>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gtest/gtest.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci.h"
#include "storage/engine/db_error.h"
#include "storage/postgres/postgres_dialect.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/answer_tally.h"
#include "tests/storage/recording_observer.h"
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
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::TaskBuilder;
using Code = ::absl::StatusCode;

// A PostgreSQL server of the test's own (which a test may stop) and a fresh
// database on it.
struct OwnedDatabase {
  std::unique_ptr<PostgresServer> server;
  std::string connection;
};

absl::StatusOr<OwnedDatabase> StartOwnedDatabase() {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server =
      PostgresServer::StartOwned(PostgresServerOptions());
  if (!server.ok()) return server.status();
  absl::StatusOr<std::string> database = (*server)->CreateFreshDatabase();
  if (!database.ok()) return database.status();
  return OwnedDatabase{*std::move(server), *std::move(database)};
}

// libpq's own errors carry no SQLSTATE: on a connection that still looks
// fine, "server closed the connection unexpectedly" is the database lost
// (read before libpq marks the connection bad, as after an immediate
// shutdown), not an internal error.
TEST(PostgresConnectionLossTest, ErrorWithoutSqlstateIsTheConnectionLost) {
  absl::StatusOr<OwnedDatabase> owned = StartOwnedDatabase();
  ASSERT_TRUE(owned.ok()) << "no PostgreSQL server: " << owned.status();
  const std::string& database = owned->connection;
  absl::StatusOr<std::unique_ptr<Dialect>> dialect =
      MakePostgresDialect(database, absl::Seconds(5));
  ASSERT_TRUE(dialect.ok()) << dialect.status();
  std::unique_ptr<soci::session> session = (*dialect)->Connect();
  const DbError lost = (*dialect)->ClassifyError(
      soci::postgresql_soci_error(
          "Cannot execute query. Fatal error. server closed the connection "
          "unexpectedly\nCONTEXT:  PL/pgSQL function record_task_change() "
          "line 3",
          "     "),
      session.get());
  EXPECT_EQ(lost.kind, DbErrorKind::kUnavailable);
  EXPECT_TRUE(lost.connection_lost);
  // The function's name is the server's own, not the client's to see.
  EXPECT_EQ(lost.message.find("CONTEXT"), std::string::npos) << lost.message;
  // With a SQLSTATE, its class decides.
  const DbError duplicate = (*dialect)->ClassifyError(
      soci::postgresql_soci_error("duplicate key", "23505"), session.get());
  EXPECT_EQ(duplicate.kind, DbErrorKind::kUniqueViolation);
  EXPECT_FALSE(duplicate.connection_lost);
}

TEST(PostgresConnectionLossTest, LostConnectionIsUnavailableThenReconnects) {
  absl::StatusOr<OwnedDatabase> owned = StartOwnedDatabase();
  ASSERT_TRUE(owned.ok()) << "no PostgreSQL server: " << owned.status();
  PostgresServer* server = owned->server.get();
  const std::string& database = owned->connection;
  absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(database);
  ASSERT_TRUE(opened.ok()) << opened.status();
  TaskStore& store = **opened;
  const AccessScope everything = AccessScope::All();

  absl::StatusOr<v1::Task> task = store.CreateTask(TaskBuilder("survivor"), "");
  ASSERT_TRUE(task.ok()) << task.status();
  ASSERT_TRUE(server->Stop().ok());
  bool restarted = false;
  absl::Cleanup restart_anyway = [&] {
    if (!restarted) server->Restart().IgnoreError();
  };
  EXPECT_THAT(store.GetTask(task->id(), everything),
              StatusIs(Code::kUnavailable));
  EXPECT_THAT(store.CreateTask(TaskBuilder("lost"), ""),
              ReasonIs(reason::kDatabaseUnavailable));
  EXPECT_THAT(store.CheckHealth(), StatusIs(Code::kUnavailable));
  ASSERT_TRUE(server->Restart().ok());
  restarted = true;
  EXPECT_TRUE(store.CheckHealth().ok());
  EXPECT_TRUE(store.GetTask(task->id(), everything).ok());
  EXPECT_TRUE(store.CreateTask(TaskBuilder("after restart"), "").ok());
}

// TryGetTaskAsync's answer, retried until the store takes the call (its
// pipelined connections open on first use, and again after a loss) or
// `within` passes; nullopt when it never does.
std::optional<absl::StatusOr<v1::Task>> GetAsync(TaskStore& store, int64_t id,
                                                 absl::Duration within) {
  const absl::Time give_up = absl::Now() + within;
  do {
    AnswerTally tally;
    if (store.TryGetTaskAsync(id, AccessScope::All(), absl::InfiniteFuture(),
                              tally.Callback())) {
      if (!tally.Await(1)) return absl::DeadlineExceededError("no answer");
      if (tally.count("OK") == 1) return tally.tasks()[0];
      return absl::UnavailableError(tally.Summary());
    }
    absl::SleepFor(absl::Milliseconds(10));
  } while (absl::Now() < give_up);
  return std::nullopt;
}

// A store on a fresh database of a server of the test's own, its pipelined
// connections up, with one task in it.
class AsyncConnectionLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<OwnedDatabase> owned = StartOwnedDatabase();
    ASSERT_TRUE(owned.ok()) << "no PostgreSQL server: " << owned.status();
    server_ = std::move(owned->server);
    database_ = owned->connection;
    SociTaskStoreOptions options;
    options.observer = &observer_;
    absl::StatusOr<TaskStorePtr> opened = OpenSociTaskStore(database_, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    absl::StatusOr<v1::Task> task = store_->CreateTask(TaskBuilder("read"), "");
    ASSERT_TRUE(task.ok()) << task.status();
    task_ = *task;
    ASSERT_TRUE(GetAsync(*store_, task_.id(), absl::Seconds(10)).has_value());
  }

  // Runs `calls` while another thread terminates every other connection to
  // the database every `period`; returns the rounds of terminations.
  int WhileTerminating(absl::Duration period,
                       const std::function<void()>& calls) {
    std::atomic<bool> stop{false};
    std::atomic<int> rounds{0};
    std::thread killer([&] {
      while (!stop.load()) {
        if (QueryRawSql(StoreBackend::kPostgres, database_,
                        "SELECT count(pg_terminate_backend(pid)) FROM "
                        "pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()")
                .ok()) {
          ++rounds;
        }
        absl::SleepFor(period);
      }
    });
    calls();
    stop = true;
    killer.join();
    return rounds.load();
  }

  // Until `ready` pipelined connections are up, or 10 s.
  bool AwaitPipelineReady(int ready) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      const std::vector<int> reports = observer_.pipeline_ready();
      if (!reports.empty() && reports.back() == ready) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<PostgresServer> server_;
  std::string database_;
  RecordingObserver observer_;  // outlives store_
  TaskStorePtr store_;
  v1::Task task_;
};

// The pipelined connections are terminated (pg_terminate_backend) again
// and again while reads are in flight: every read is answered (once more on
// a new connection, else UNAVAILABLE), none is lost, and reads work after.
TEST_F(AsyncConnectionLossTest, ReadsSurviveTerminatedConnections) {
  constexpr int kReads = 3000;
  AnswerTally tally;
  const int rounds = WhileTerminating(absl::Milliseconds(20), [&] {
    for (int i = 0; i < kReads; ++i) {
      if (!store_->TryGetTaskAsync(task_.id(), AccessScope::All(),
                                   absl::InfiniteFuture(),
                                   tally.Callback([](const v1::Task& got) {
                                     return got.title() == "read";
                                   }))) {
        tally.Declined();
      }
      if (i % 100 == 0) absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_TRUE(tally.Await(kReads)) << tally.Summary();
  });
  // RUN_BLOCKING: left waiting while no connection was up (the service would
  // read on the pool).
  EXPECT_EQ(tally.count("OK") + tally.count("UNAVAILABLE") +
                tally.count("DECLINED") + tally.count("RUN_BLOCKING"),
            kReads)
      << tally.Summary();
  EXPECT_GT(tally.count("OK"), 0);
  std::cout << "FIGURE " << kReads << " async reads with " << rounds
            << " rounds of terminated connections: " << tally.Summary() << "\n";
  // The last round may have ended a connection no read had found dead yet:
  // the first read after may still be UNAVAILABLE, which a client retries.
  std::optional<absl::StatusOr<v1::Task>> after;
  for (int attempt = 0; attempt < 3; ++attempt) {
    after = GetAsync(*store_, task_.id(), absl::Seconds(10));
    if (!after.has_value() || after->ok()) break;
  }
  ASSERT_TRUE(after.has_value()) << "the connections never came back";
  EXPECT_TRUE(after->ok()) << after->status();
}

// Writes whose connection is terminated under them are answered (committed,
// or UNAVAILABLE) and never sent twice: no task is created twice, and every
// acknowledged one is stored.
TEST_F(AsyncConnectionLossTest, WritesAreNeverRepeated) {
  // Tasks without a project: no unique title would refuse a second insert.
  constexpr int kWrites = 3000;
  AnswerTally tally;
  int sent = 0;
  const int rounds = WhileTerminating(absl::Milliseconds(5), [&] {
    // Until one is acknowledged too (on a loaded machine nearly every one
    // could meet a terminated connection), within 20 s: the check that
    // acknowledged writes are stored must not hold for want of any.
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (sent < kWrites ||
           (tally.count("OK") == 0 && absl::Now() < give_up)) {
      if (!store_->TryCreateTaskAsync(
              TaskBuilder(absl::StrCat("w", sent)).Build(), "", Idempotency(),
              absl::InfiniteFuture(), tally.Callback())) {
        tally.Declined();
      }
      ++sent;
      if (sent > kWrites || sent % 50 == 0) {
        absl::SleepFor(absl::Milliseconds(sent > kWrites ? 5 : 2));
      }
    }
    EXPECT_TRUE(tally.Await(sent)) << tally.Summary();
  });
  const int ok = tally.count("OK");
  const int unavailable = tally.count("UNAVAILABLE");
  // RUN_BLOCKING: never sent, or undone with a failed batch (the service
  // would run it on the pool); not stored.
  EXPECT_EQ(
      ok + unavailable + tally.count("DECLINED") + tally.count("RUN_BLOCKING"),
      sent)
      << tally.Summary();
  EXPECT_GT(ok, 0);
  absl::StatusOr<std::string> twice = QueryRawSql(
      StoreBackend::kPostgres, database_,
      "SELECT count(*) FROM (SELECT title FROM tasks GROUP BY title "
      "HAVING count(*) > 1) AS repeated");
  ASSERT_TRUE(twice.ok()) << twice.status();
  EXPECT_EQ(*twice, "0") << "a write was sent twice";
  absl::StatusOr<std::string> stored =
      QueryRawSql(StoreBackend::kPostgres, database_,
                  "SELECT count(*) FROM tasks WHERE title LIKE 'w%'");
  ASSERT_TRUE(stored.ok()) << stored.status();
  int64_t rows = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*stored, &rows));
  // Every acknowledged write is stored; an UNAVAILABLE one may be.
  EXPECT_GE(rows, ok);
  EXPECT_LE(rows, ok + unavailable);
  std::cout << "FIGURE " << sent << " async writes with " << rounds
            << " rounds of terminated connections: " << tally.Summary() << ", "
            << rows << " stored\n";
}

// The server stops: async reads are declined or UNAVAILABLE, never hung;
// once it is back, they work again.
TEST_F(AsyncConnectionLossTest, ReadsResumeAfterRestart) {
  EXPECT_TRUE(AwaitPipelineReady(2)) << "the pipeline's two connections";
  ASSERT_TRUE(server_->Stop().ok());
  bool restarted = false;
  absl::Cleanup restart_anyway = [&] {
    if (!restarted) server_->Restart().IgnoreError();
  };
  std::optional<absl::StatusOr<v1::Task>> down =
      GetAsync(*store_, task_.id(), absl::Seconds(1));
  if (down.has_value()) {
    EXPECT_THAT(*down, StatusIs(Code::kUnavailable));
  }
  // What an operator's metrics show (tasks_db_pipeline_ready_connections).
  EXPECT_TRUE(AwaitPipelineReady(0)) << "the pipeline never reported down";
  ASSERT_TRUE(server_->Restart().ok());
  restarted = true;
  std::optional<absl::StatusOr<v1::Task>> back =
      GetAsync(*store_, task_.id(), absl::Seconds(10));
  ASSERT_TRUE(back.has_value()) << "the connections never came back";
  // The first read may find a connection the restart broke: once more.
  if (!back->ok()) back = GetAsync(*store_, task_.id(), absl::Seconds(10));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->ok()) << back->status();
  EXPECT_TRUE(AwaitPipelineReady(2)) << "the pipeline never came back whole";
}

}  // namespace
}  // namespace tasks::storage
