// SIGTERM with WatchTasks streams open (each has received an event, so the
// server holds them): health turns NOT_SERVING at once, then every watch
// ends with UNAVAILABLE (after NOT_SERVING, so that a client resumes on
// another replica the balancer still offers), and the process exits 0
// well within its drain deadline: open watches do not hold the drain up.

#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/reliability/health_watcher.h"
#include "tests/reliability/reliability_test_base.h"
#include "tests/reliability/task_watcher.h"
#include "tests/testing/client_polling.h"

namespace tasks::reliability {
namespace {

constexpr int kWatchers = 8;
constexpr absl::Duration kDrainTimeout = absl::Seconds(5);
// The health stream and the watches arrive on different connections, read
// by different threads: their arrival times race by a fraction of a
// millisecond even when the server sent NOT_SERVING first.
constexpr absl::Duration kArrivalSkew = absl::Milliseconds(50);

using WatchSigtermTest = ReliabilityTest;

TEST_P(WatchSigtermTest, WatchesEndUnavailableAfterNotServingAndExitZero) {
  ASSERT_NO_FATAL_FAILURE(StartWithProject(
      ServerOptions({absl::StrCat("--drain_timeout=",
                                  absl::FormatDuration(kDrainTimeout))}),
      "sigterm"));
  HealthWatcher health(server_->NewChannel());
  ASSERT_TRUE(health.AwaitServing(absl::Seconds(10)));

  std::string token;
  ASSERT_TRUE(ListAll(*stub_, "", &token).ok());
  std::vector<std::unique_ptr<TaskWatcher>> watchers;
  const std::shared_ptr<grpc::Channel> shared = server_->NewChannel();
  for (int i = 0; i < kWatchers; ++i) {
    // Half on a connection of their own, half sharing one.
    watchers.push_back(std::make_unique<TaskWatcher>(
        i % 2 == 0 ? server_->NewChannel() : shared, WatchFrom(token)));
  }
  ASSERT_TRUE(CreateTask(*stub_, project_id_, "before-sigterm").ok());
  for (auto& watcher : watchers) {
    ASSERT_TRUE(watcher->AwaitEvents(1, absl::Seconds(10)))
        << watcher->State() << "; " << server_->LogTail();
  }

  // As a live client process: its idle connections answer the drain.
  ::tasks::testing::ClientPolling polling;
  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  const absl::Time not_serving_at = health.AwaitNotServing(absl::Seconds(2));
  absl::Duration last_end = absl::ZeroDuration();
  int unavailable = 0;
  for (auto& watcher : watchers) {
    absl::optional<grpc::Status> end = watcher->AwaitEnd(kDrainTimeout);
    ASSERT_TRUE(end.has_value()) << "a watch stayed open through the drain";
    unavailable += end->error_code() == grpc::StatusCode::UNAVAILABLE;
    EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAVAILABLE)
        << watcher->State();
    EXPECT_GE(watcher->ended_at(), not_serving_at - kArrivalSkew)
        << "a watch ended before health said NOT_SERVING";
    last_end = std::max(last_end, watcher->ended_at() - signalled);
  }
  absl::StatusOr<int> exit_code =
      server_->WaitForExit(kDrainTimeout + absl::Seconds(5));
  const absl::Time exited = absl::Now();
  ASSERT_TRUE(exit_code.ok())
      << exit_code.status() << "; " << server_->LogTail();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(not_serving_at - signalled, absl::Milliseconds(500))
      << "health did not turn NOT_SERVING at once";
  // Watches the server holds would keep it until the drain deadline; ended
  // at once (each has a second at most to take its last event), they leave
  // nothing to drain.
  EXPECT_LT(exited - signalled, kDrainTimeout / 2)
      << "the open watches held up the drain; " << server_->LogTail();

  ReportFigure(absl::StrCat(
      kWatchers, " open watches at SIGTERM: not_serving_after=",
      Millis(not_serving_at - signalled), " unavailable=", unavailable,
      " last_watch_ended_after=", Millis(last_end), " exit_code=", *exit_code,
      " exit_after_sigterm=", Millis(exited - signalled),
      " drain_timeout=", Millis(kDrainTimeout)));
}

INSTANTIATE_RELIABILITY_TEST_SUITE(WatchSigtermTest);

}  // namespace
}  // namespace tasks::reliability
