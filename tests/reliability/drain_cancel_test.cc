// SIGTERM with --drain_timeout=1s while a write waits for another
// connection's lock that outlasts the drain: once the drain time is up the
// server cancels the statement (PostgreSQL: a cancel request; SQLite: an
// interrupt) rather than letting it run to the call's 30 s cap, the call
// answers UNAVAILABLE with reason DATABASE_UNAVAILABLE (safe to retry
// elsewhere), and the process exits within the drain timeout plus a small
// bound.

#include <signal.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/database_lock.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/testing/grpc_status_matchers.h"

namespace tasks::reliability {
namespace {

constexpr absl::Duration kDrainTimeout = absl::Seconds(1);
// Cancelling, the cancelled call's answer (gRPC waits up to a second for
// it), closing the store and exiting, on a loaded machine.
constexpr absl::Duration kExitBound = absl::Seconds(2);
// Longer than the drain and SQLite's 5 s busy timeout.
constexpr absl::Duration kCallDeadline = absl::Seconds(30);

using ::tasks::testing::GrpcErrorIs;

using DrainCancelTest = ReliabilityTest;

TEST_P(DrainCancelTest, RunningStatementIsCancelledWhenTheDrainEnds) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({absl::StrCat("--drain_timeout=",
                                  absl::FormatDuration(kDrainTimeout))}),
      "drain cancel"));

  absl::StatusOr<std::unique_ptr<DatabaseWriteLock>> lock =
      DatabaseWriteLock::Acquire(backend(), database());
  ASSERT_TRUE(lock.ok()) << lock.status();
  grpc::Status held;
  absl::Time held_returned;
  std::thread writer([&] {
    held = CreateTask(*stub_, project_id_, "held", kCallDeadline);
    held_returned = absl::Now();
  });
  // The write reaches the database and waits for the lock.
  absl::SleepFor(absl::Milliseconds(300));

  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exit_code = server_->WaitForExit(absl::Seconds(15));
  const absl::Time exited = absl::Now();
  (*lock)->Release();
  writer.join();

  ReportFigure(absl::StrCat("drain_timeout=", Millis(kDrainTimeout),
                            " exit_after_sigterm=", exit_code.ok() ? "" : ">",
                            Millis(exited - signalled),
                            " held_call=", static_cast<int>(held.error_code()),
                            " (", held.error_message(), ") after ",
                            Millis(held_returned - signalled)));
  ASSERT_TRUE(exit_code.ok())
      << exit_code.status() << "; " << server_->LogTail();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LE(exited - signalled, kDrainTimeout + kExitBound)
      << server_->LogTail();
  // Its own answer, not gRPC's bare "Cancelling all calls".
  EXPECT_THAT(held, GrpcErrorIs(grpc::StatusCode::UNAVAILABLE,
                                reason::kDatabaseUnavailable))
      << held.error_message();
}

INSTANTIATE_RELIABILITY_TEST_SUITE(DrainCancelTest);

}  // namespace
}  // namespace tasks::reliability
