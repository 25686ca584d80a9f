// PostgreSQL failing under a running server: the whole server stopped at
// once (`pg_ctl stop -m immediate`) under load and started again, and single
// backends terminated. Calls fail with UNAVAILABLE only, promptly (behind
// PgBouncer a call may instead wait for the database, within its
// deadline); health follows the database; the same server process serves
// again once the database is back; nothing acknowledged is lost; and a
// WatchTasks stream open throughout stays open and reports every
// acknowledged create once.

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/process_memory.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/testing/raw_sql.h"

namespace tasks::reliability {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::tasks::testing::PostgresServer;
using ::tasks::testing::QueryRawSql;

constexpr int kClients = 8;
constexpr absl::Duration kCallDeadline = absl::Seconds(10);
constexpr absl::Duration kOutage = absl::Seconds(2);
// The bound: serving again within 5 s of the database's return.
constexpr absl::Duration kRecoveryBound = absl::Seconds(5);
constexpr int kPoolSize = 4;

class PostgresOutageTest : public ReliabilityTest {
 protected:
  // Terminates the server's backends on the test database (the most
  // recently active first, at most `limit`); returns how many.
  // Through PgBouncer these are its server connections, seen on a session of
  // PostgreSQL's own.
  absl::StatusOr<int64_t> TerminateBackends(int limit) {
    absl::StatusOr<std::string> direct =
        ::tasks::testing::PastPgBouncer(database());
    if (!direct.ok()) return direct.status();
    return CountRows(
        backend(), *direct,
        absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM ("
                     "SELECT pid FROM pg_stat_activity "
                     "WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid() "
                     "AND backend_type = 'client backend' "
                     "ORDER BY query_start DESC NULLS LAST LIMIT ",
                     limit, ") AS victims"));
  }
};

TEST_P(PostgresOutageTest, ImmediateStopUnderLoadIsUnavailableThenServesAgain) {
  PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);
  TaskServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  const pid_t pid = server->pid();
  auto stub = v1::TaskService::NewStub(server->NewChannel());
  const int64_t project_id = CreateProject(*stub, "outage");
  ASSERT_NE(project_id, 0);

  // A watcher of the project stays open through the outage.
  const std::string filter = absl::StrCat("project_id = ", project_id);
  std::string token;
  ASSERT_TRUE(ListAll(*stub, filter, &token).ok());
  TaskWatcher watcher(server->NewChannel(), WatchFrom(token, filter));

  CreateLoadOptions options;
  options.clients = kClients;
  options.project_id = project_id;
  options.call_deadline = kCallDeadline;
  CreateLoad load([server] { return server->NewChannel(); }, options);
  load.Start();
  while (load.acknowledged_count() < 100) absl::SleepFor(absl::Milliseconds(5));
  // The watcher is live (its start read from the store, which an outage
  // would end with UNAVAILABLE for the client to resume, is behind it).
  const absl::Time live_by = absl::Now() + absl::Seconds(20);
  while (watcher.event_count() == 0 && absl::Now() < live_by) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GT(watcher.event_count(), 0) << watcher.State();

  ASSERT_GT(load.in_flight(), 0);
  ASSERT_TRUE(postgres->Stop().ok());
  const absl::Time stopped = absl::Now();
  absl::StatusOr<absl::Duration> not_serving = server->WaitForHealth(
      HealthCheckResponse::NOT_SERVING, absl::Seconds(10));
  ASSERT_TRUE(not_serving.ok()) << not_serving.status();
  absl::SleepFor(kOutage - (absl::Now() - stopped));

  // The database is back somewhere between `back.restarting` and
  // `back.accepting` (Restart() returns once it accepts connections):
  // recovery is measured from both ends.
  DatabaseReturn back;
  ASSERT_TRUE(RestartPostgresUntilServing(*postgres, *server, &back));
  const int64_t acknowledged_at_return = load.acknowledged_count();
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (load.acknowledged_count() < acknowledged_at_return + 100 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  load.Stop();

  EXPECT_TRUE(server->Running()) << server->LogTail();
  EXPECT_EQ(server->pid(), pid);
  const std::vector<CreateOutcome> outcomes = load.Outcomes();
  absl::Time first_ok_after_restart = absl::InfiniteFuture();
  for (const CreateOutcome& outcome : outcomes) {
    if (outcome.code == grpc::StatusCode::OK &&
        outcome.end >= back.restarting) {
      first_ok_after_restart = std::min(first_ok_after_restart, outcome.end);
    }
  }
  const absl::Duration serves_again = first_ok_after_restart - back.restarting;
  EXPECT_LT(serves_again, kRecoveryBound);
  EXPECT_LT(back.accepting - back.restarting + back.serving, kRecoveryBound);
  // Health notices within a probe interval (1 s) and a probe.
  EXPECT_LT(*not_serving, absl::Seconds(3));

  const OutcomeSummary all = Summarize(outcomes, kCallDeadline);
  // Calls that ended while the database was certainly down.
  const OutcomeSummary outage =
      Summarize(outcomes, kCallDeadline, stopped, back.restarting);
  EXPECT_EQ(UnexpectedCodes(
                all, {grpc::StatusCode::OK, grpc::StatusCode::UNAVAILABLE}),
            "");
  EXPECT_EQ(all.overdue, 0) << "calls hung past their deadline";
  // libpq's text of a failed connect names the database's socket path (or
  // host and port) and its users: the server logs it, clients never get it.
  int with_libpq_text = 0;
  for (const CreateOutcome& outcome : outcomes) {
    if (absl::StrContains(outcome.message, ".s.PGSQL") ||
        absl::StrContains(outcome.message, "connection to server")) {
      if (++with_libpq_text == 1) {
        ADD_FAILURE() << "a client got libpq's text: " << outcome.message;
      }
    }
  }
  EXPECT_EQ(with_libpq_text, 0);
  // PgBouncer holds a query while its server is down (query_wait_timeout),
  // so a call there may wait for the restart and succeed within its
  // deadline rather than fail: none ending OK while the database was down
  // is what holds on both.
  if (!::tasks::testing::PostgresThroughPgBouncer()) {
    EXPECT_GT(outage.count(grpc::StatusCode::UNAVAILABLE), 0);
  }
  EXPECT_EQ(outage.count(grpc::StatusCode::OK), 0);

  absl::StatusOr<LossReport> loss =
      CheckAcknowledgedTasks(load.Acknowledged(), *stub, backend(), database());
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_EQ(loss->lost(), 0);

  // The watcher got every acknowledged create once (a create that failed
  // but committed may add its own), and its stream is still open.
  // Counting events is not enough: such a create's event can arrive before
  // an acknowledged one's.
  const std::map<int64_t, std::string> acknowledged = load.Acknowledged();
  std::map<int64_t, int> created;
  int missing = 0;
  const absl::Time events_by = absl::Now() + absl::Seconds(20);
  do {
    created.clear();
    for (const ReceivedEvent& received : watcher.Events()) {
      ++created[received.event.task().id()];
    }
    missing = 0;
    for (const auto& [id, title] : acknowledged) missing += !created.count(id);
    if (missing == 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < events_by);
  for (const ReceivedEvent& received : watcher.Events()) {
    EXPECT_EQ(received.event.type(), v1::TaskEvent::CREATED)
        << Describe(received.event);
  }
  int repeated = 0;
  for (const auto& [id, count] : created) repeated += count > 1;
  EXPECT_EQ(missing, 0) << "acknowledged creates without their event";
  EXPECT_EQ(repeated, 0) << "tasks with more than one CREATED event";
  EXPECT_EQ(watcher.State(), "open");

  ReportFigure(absl::StrCat(
      "watcher_events=", watcher.event_count(),
      " acknowledged=", loss->acknowledged, " lost=", loss->lost(),
      " outage=", Millis(back.restarting - stopped),
      " not_serving_after_stop=", Millis(*not_serving),
      " db_restart_took=", Millis(back.accepting - back.restarting),
      " serving_after_db_accepting=", Millis(back.serving),
      " first_ok_after_db_restart_began=", Millis(serves_again),
      " calls_during_outage: ", CodeCounts(outage), " max_call_latency=",
      Millis(all.max_latency), " all_calls: ", CodeCounts(all)));
}

// Through PgBouncer every connect fails after its login while the database
// is down (PgBouncer takes the login, then cannot run the first statement),
// and SOCI 4.0 does not close such a connection: with the health probe
// retrying every 10 ms, the ad50b22 binary grew by ~20 KB a probe. The
// server's memory stays put through the outage, and it serves again after.
TEST_P(PostgresOutageTest, OutageDoesNotGrowTheServersMemory) {
  PostgresServer* postgres = Postgres();
  ASSERT_NE(postgres, nullptr);
  TaskServerProcess* server =
      StartServer(ServerOptions({"--health_probe_interval=10ms"}));
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(postgres->Stop().ok());
  absl::StatusOr<absl::Duration> not_serving = server->WaitForHealth(
      HealthCheckResponse::NOT_SERVING, absl::Seconds(10));
  ASSERT_TRUE(not_serving.ok()) << not_serving.status();
  // The first failures' allocations (log lines, libpq's buffers) settle.
  absl::SleepFor(absl::Seconds(1));
  const int64_t before_kib = ProcStatusKib(server->pid(), "VmRSS");
  absl::SleepFor(absl::Seconds(5));
  const int64_t after_kib = ProcStatusKib(server->pid(), "VmRSS");
  DatabaseReturn back;
  ASSERT_TRUE(RestartPostgresUntilServing(*postgres, *server, &back));
  ASSERT_GT(before_kib, 0);
  EXPECT_LT(after_kib - before_kib, 2048)
      << "VmRSS " << before_kib << " -> " << after_kib << " KiB";
  ReportFigure(absl::StrCat("VmRSS over 5 s of outage, probed every 10 ms: ",
                            before_kib, " -> ", after_kib, " KiB"));
}

TEST_P(PostgresOutageTest, TerminatedBackendCostsAtMostTheCallThatHitIt) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({absl::StrCat("--pool_size=", kPoolSize)}), "terminate"));
  int sequence = 0;
  auto next_title = [&] { return absl::StrCat("t-", sequence++); };
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        CreateTask(*stub_, project_id_, next_title(), kCallDeadline).ok());
  }

  // Sequential creates after `terminated` backends were killed: the failures
  // (all UNAVAILABLE) come first, then 20 in a row succeed.
  auto creates_after_terminating = [&](int limit, int64_t* terminated) {
    absl::StatusOr<int64_t> count = TerminateBackends(limit);
    EXPECT_TRUE(count.ok()) << count.status();
    *terminated = count.ok() ? *count : 0;
    int failed = 0;
    int succeeded_in_a_row = 0;
    for (int call = 0; call < 40 && succeeded_in_a_row < 20; ++call) {
      grpc::Status status =
          CreateTask(*stub_, project_id_, next_title(), kCallDeadline);
      if (status.ok()) {
        ++succeeded_in_a_row;
        continue;
      }
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
          << status.error_message();
      EXPECT_EQ(succeeded_in_a_row, 0)
          << "a failure after the pool recovered: " << status.error_message();
      ++failed;
    }
    EXPECT_EQ(succeeded_in_a_row, 20);
    return failed;
  };

  int64_t terminated_one = 0;
  const int failed_one = creates_after_terminating(1, &terminated_one);
  EXPECT_EQ(terminated_one, 1);
  EXPECT_LE(failed_one, 1);

  // Concurrent calls open pooled connections (creates that find the
  // pipelined connections down take the pool).
  {
    CreateLoadOptions options;
    options.clients = 2 * kPoolSize;
    options.project_id = project_id_;
    options.title_prefix = "warm";
    CreateLoad load([this] { return server_->NewChannel(); }, options);
    load.Start();
    while (load.acknowledged_count() < 200) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  int64_t terminated_all = 0;
  const int failed_all = creates_after_terminating(100, &terminated_all);
  // The server's connections: the pool's, opened as calls need them (the
  // creates above may all have taken the pipelined connections), and the
  // two of GetTask's and CreateTask's pipelined statements; behind PgBouncer
  // the server connections it opened as transactions needed them.
  constexpr int kPipelined = 2;
  EXPECT_GE(terminated_all, 1);
  EXPECT_LE(terminated_all, kPoolSize + kPipelined);
  EXPECT_LE(failed_all, terminated_all);

  ReportFigure(absl::StrCat("pool_size=", kPoolSize, " terminated_one=",
                            terminated_one, " failed_calls=", failed_one,
                            " then 20 ok; terminated_all=", terminated_all,
                            " failed_calls=", failed_all, " then 20 ok"));
}

INSTANTIATE_TEST_SUITE_P(Backends, PostgresOutageTest,
                         ::testing::Values(StoreBackend::kPostgres),
                         BackendTestName);

}  // namespace
}  // namespace tasks::reliability
