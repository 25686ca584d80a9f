// The server SIGKILLed again and again while clients create tasks: every
// create that was acknowledged is in the database after the restarts, read
// back through the API and with raw SQL, and the database is consistent.

#include <memory>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/create_load.h"
#include "tests/reliability/database_checks.h"
#include "tests/reliability/reliability_test_base.h"

namespace tasks::reliability {
namespace {

constexpr int kKills = 12;
constexpr int kClients = 8;
// Each life of the server acknowledges at least this many creates before it
// is killed, so that every kill lands among writes in flight.
constexpr int kCreatesPerLife = 20;

using KillRestartTest = ReliabilityTest;

TEST_P(KillRestartTest, AcknowledgedCreatesSurviveRepeatedSigkill) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(ServerOptions(), "kill-restart"));

  CreateLoadOptions options;
  options.clients = kClients;
  options.project_id = project_id_;
  options.call_deadline = absl::Seconds(10);
  CreateLoad load([this] { return server_->NewChannel(); }, options);
  load.Start();

  absl::BitGen random;
  absl::Duration total_downtime;
  for (int kill = 1; kill <= kKills; ++kill) {
    const int64_t before = load.acknowledged_count();
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (load.acknowledged_count() < before + kCreatesPerLife &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_GE(load.acknowledged_count(), before + kCreatesPerLife)
        << "no creates acknowledged after restart " << kill - 1 << "; "
        << server_->LogTail();
    // Somewhere in the middle of the next writes.
    absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 0, 50)));
    ASSERT_GT(load.in_flight(), 0);
    ASSERT_TRUE(server_->Kill().ok()) << server_->LogTail();
    const absl::Time killed = absl::Now();
    absl::Status restarted = server_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted;
    total_downtime += absl::Now() - killed;
  }
  // The last life too serves before the load stops.
  const int64_t before = load.acknowledged_count();
  while (load.acknowledged_count() < before + kCreatesPerLife) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  load.Stop();

  const OutcomeSummary summary =
      Summarize(load.Outcomes(), options.call_deadline);
  EXPECT_EQ(UnexpectedCodes(
                summary, {grpc::StatusCode::OK, grpc::StatusCode::UNAVAILABLE}),
            "");
  EXPECT_EQ(summary.overdue, 0);

  const std::map<int64_t, std::string> acknowledged = load.Acknowledged();
  absl::StatusOr<LossReport> loss =
      CheckAcknowledgedTasks(acknowledged, *stub_, backend(), database());
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_TRUE(loss->missing_by_rpc.empty())
      << "acknowledged tasks GetTask does not find, e.g. id "
      << loss->missing_by_rpc.front();
  EXPECT_EQ(loss->missing_by_sql, 0);
  absl::StatusOr<int64_t> stored =
      CountRows(backend(), database(),
                absl::StrCat("SELECT count(*) FROM tasks WHERE project_id = ",
                             project_id_));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GE(*stored, loss->acknowledged);
  absl::StatusOr<std::string> integrity = IntegrityCheck(backend(), database());
  ASSERT_TRUE(integrity.ok()) << integrity.status();
  EXPECT_EQ(*integrity, "ok");

  ReportFigure(absl::StrCat(
      "acknowledged=", loss->acknowledged, " lost=", loss->lost(), " restarts=",
      kKills, " stored_unacknowledged=", *stored - loss->acknowledged,
      " calls: ", CodeCounts(summary), " mean_restart=",
      absl::FormatDuration(
          absl::Trunc(total_downtime / kKills, absl::Milliseconds(1))),
      " integrity=", *integrity));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(KillRestartTest);

}  // namespace
}  // namespace tasks::reliability
