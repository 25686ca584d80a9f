#include "common/call_cancellation.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/call_deadline.h"
#include "gtest/gtest.h"

namespace tasks {
namespace {

TEST(CallCancellationTest, CancelRunsTheRegisteredHookOnce) {
  CallCancellation cancellation;
  int runs = 0;
  {
    CallCancellation::OnCancel hook(&cancellation, [&runs] { ++runs; });
    EXPECT_EQ(runs, 0);
    cancellation.Cancel();
    cancellation.Cancel();
  }
  EXPECT_TRUE(cancellation.cancelled());
  EXPECT_EQ(runs, 1);
}

TEST(CallCancellationTest, AHookRegisteredAfterTheCancelRunsAtOnce) {
  CallCancellation cancellation;
  cancellation.Cancel();
  int runs = 0;
  CallCancellation::OnCancel hook(&cancellation, [&runs] { ++runs; });
  EXPECT_EQ(runs, 1);
}

TEST(CallCancellationTest, AHookWhoseScopeEndedDoesNotRun) {
  CallCancellation cancellation;
  int runs = 0;
  {
    CallCancellation::OnCancel hook(&cancellation, [&runs] { ++runs; });
  }
  cancellation.Cancel();
  EXPECT_EQ(runs, 0);
}

TEST(CallCancellationTest, OnlyTheInnermostHookRunsAndTheOuterOneIsBackAfter) {
  CallCancellation first;
  int outer_runs = 0;
  int inner_runs = 0;
  CallCancellation::OnCancel outer(&first, [&] { ++outer_runs; });
  {
    CallCancellation::OnCancel inner(&first, [&] { ++inner_runs; });
  }
  first.Cancel();
  EXPECT_EQ(outer_runs, 1);
  EXPECT_EQ(inner_runs, 0);

  CallCancellation second;
  outer_runs = 0;
  inner_runs = 0;
  CallCancellation::OnCancel second_outer(&second, [&] { ++outer_runs; });
  CallCancellation::OnCancel second_inner(&second, [&] { ++inner_runs; });
  second.Cancel();
  EXPECT_EQ(outer_runs, 0);
  EXPECT_EQ(inner_runs, 1);
}

TEST(CallCancellationTest, ANullCancellationIgnoresItsHook) {
  int runs = 0;
  CallCancellation::OnCancel hook(nullptr, [&runs] { ++runs; });
  EXPECT_EQ(runs, 0);
}

TEST(CallCancellationTest, TheScopeSetsThisThreadsCancellationOnly) {
  CallCancellation cancellation;
  EXPECT_EQ(CurrentCallCancellation(), nullptr);
  {
    ScopedCallCancellation scope(&cancellation);
    EXPECT_EQ(CurrentCallCancellation(), &cancellation);
    std::thread([] { EXPECT_EQ(CurrentCallCancellation(), nullptr); }).join();
    EXPECT_FALSE(CallCancelled());
    cancellation.Cancel();
    EXPECT_TRUE(CallCancelled());
  }
  EXPECT_EQ(CurrentCallCancellation(), nullptr);
  EXPECT_FALSE(CallCancelled());
}

TEST(CallCancellationTest, ACancelledCallIsCutShortWithCancelled) {
  ScopedCallDeadline deadline(absl::Now() + absl::Hours(1));
  CallCancellation cancellation;
  ScopedCallCancellation scope(&cancellation);
  EXPECT_FALSE(CallCutShort());
  cancellation.Cancel();
  EXPECT_TRUE(CallCutShort());
  EXPECT_EQ(CallCutShortStatus("now").code(), absl::StatusCode::kCancelled);
}

TEST(CallCancellationTest, ACallPastItsDeadlineIsCutShortWithDeadlineExceeded) {
  ScopedCallDeadline deadline(absl::Now() - absl::Milliseconds(1));
  CallCancellation cancellation;
  ScopedCallCancellation scope(&cancellation);
  EXPECT_TRUE(CallCutShort());
  EXPECT_EQ(CallCutShortStatus("now").code(),
            absl::StatusCode::kDeadlineExceeded);
  // Even when it was cancelled too: gRPC cancels a call at its deadline.
  cancellation.Cancel();
  EXPECT_EQ(CallCutShortStatus("now").code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace tasks
