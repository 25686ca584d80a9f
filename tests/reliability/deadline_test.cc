// Calls with a 50 ms deadline while another connection holds the tasks
// table's write lock: the server answers DEADLINE_EXCEEDED promptly (its own
// log shows how long it spent), gives up the write (nothing is inserted once
// the lock goes), leaves no statement waiting in PostgreSQL
// (pg_stat_activity), and serves normally afterwards. Reads are not held up.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/call_log.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/database_lock.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr int kCalls = 5;
constexpr absl::Duration kCallDeadline = absl::Milliseconds(50);
// The "promptly".
constexpr absl::Duration kPromptly = absl::Milliseconds(250);
constexpr char kCreateTaskMethod[] = "/tasks.v1.TaskService/CreateTask";

class DeadlineTest : public ReliabilityTest {
 protected:
  // PostgreSQL sessions of the server still running a statement that waits
  // for a lock (every session but ours and the lock holder's).
  absl::StatusOr<int64_t> LockWaiters(int lock_holder_pid) {
    return CountRows(
        backend(), database(),
        absl::StrCat("SELECT count(*) FROM pg_stat_activity "
                     "WHERE datname = current_database() "
                     "AND pid NOT IN (pg_backend_pid(), ",
                     lock_holder_pid,
                     ") AND state = 'active' AND wait_event_type = 'Lock'"));
  }
};

TEST_P(DeadlineTest, ShortDeadlineOnLockedDatabaseIsCutShortServerSide) {
  ASSERT_NO_FATAL_FAILURE(
      StartWithProject(ServerOptions({"--log_level=info"}), "deadlines"));
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "before the lock", absl::Seconds(10))
          .ok());

  absl::StatusOr<std::unique_ptr<DatabaseWriteLock>> lock =
      DatabaseWriteLock::Acquire(backend(), database());
  ASSERT_TRUE(lock.ok()) << lock.status();

  absl::Duration slowest_client;
  absl::Duration slowest_cancel;
  for (int call = 0; call < kCalls; ++call) {
    const absl::Time start = absl::Now();
    grpc::Status status = CreateTask(
        *stub_, project_id_, absl::StrCat("held ", call), kCallDeadline);
    const absl::Time returned = absl::Now();
    slowest_client = std::max(slowest_client, returned - start);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
    if (backend() == StoreBackend::kPostgres) {
      // The statement is cancelled, not left waiting for the lock.
      absl::StatusOr<int64_t> waiters = LockWaiters((*lock)->backend_pid());
      while (waiters.ok() && *waiters > 0 &&
             absl::Now() - returned < kPromptly) {
        absl::SleepFor(absl::Milliseconds(5));
        waiters = LockWaiters((*lock)->backend_pid());
      }
      ASSERT_TRUE(waiters.ok()) << waiters.status();
      EXPECT_EQ(*waiters, 0)
          << "a statement still waits for the lock "
          << Millis(absl::Now() - returned) << " after its call ended";
      slowest_cancel = std::max(slowest_cancel, absl::Now() - returned);
    }
  }
  // Reads do not wait for the write lock.
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    v1::ListTasksRequest request;
    request.set_project_id(project_id_);
    v1::ListTasksResponse response;
    EXPECT_TRUE(stub_->ListTasks(&context, request, &response).ok());
  }

  // The server's own account of the held calls: how long it spent on each.
  std::vector<LoggedCall> logged;
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  do {
    logged = LoggedCalls(server_->log_path(), kCreateTaskMethod);
    if (logged.size() >= 1 + kCalls) break;
    absl::SleepFor(absl::Milliseconds(10));
  } while (absl::Now() < give_up);
  ASSERT_EQ(logged.size(), 1 + kCalls) << server_->LogTail();
  double slowest_server_ms = 0;
  for (int call = 1; call <= kCalls; ++call) {
    EXPECT_EQ(logged[call].code, "DEADLINE_EXCEEDED");
    slowest_server_ms = std::max(slowest_server_ms, logged[call].milliseconds);
  }
  EXPECT_LT(slowest_server_ms, absl::ToDoubleMilliseconds(kPromptly));

  (*lock)->Release();
  // Abandoned writes stay abandoned once the lock is gone.
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(
      CreateTask(*stub_, project_id_, "after the lock", absl::Seconds(10))
          .ok());
  absl::StatusOr<int64_t> held_rows =
      CountRows(backend(), database(),
                absl::StrCat("SELECT count(*) FROM tasks WHERE project_id = ",
                             project_id_, " AND title LIKE 'held %'"));
  ASSERT_TRUE(held_rows.ok()) << held_rows.status();
  EXPECT_EQ(*held_rows, 0);

  std::string figure = absl::StrCat(
      "calls=", kCalls, " deadline=", Millis(kCallDeadline),
      " code=DEADLINE_EXCEEDED slowest_client_return=", Millis(slowest_client),
      " slowest_server_time=", slowest_server_ms,
      "ms held_writes_applied=", *held_rows);
  if (backend() == StoreBackend::kPostgres) {
    absl::StrAppend(
        &figure, " lingering_lock_waiters=0 within=", Millis(slowest_cancel));
  }
  ReportFigure(figure);
}

INSTANTIATE_RELIABILITY_TEST_SUITE(DeadlineTest);

}  // namespace
}  // namespace tasks::reliability
