// WorkerPool: work runs on its threads, never more than max_threads at once,
// and work beyond them is refused rather than queued.
#include "service/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

TEST(WorkerPoolTest, RunsSubmittedWork) {
  WorkerPool pool(2);
  absl::Notification done;
  ASSERT_TRUE(pool.TrySubmit([&] { done.Notify(); }));
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(WorkerPoolTest, WorkBeyondBusyThreadsIsRefusedUntilOneIsFree) {
  WorkerPool pool(2);
  absl::Notification release;
  std::atomic<int> running{0};
  auto blocking = [&] {
    ++running;
    release.WaitForNotification();
  };
  ASSERT_TRUE(pool.TrySubmit(blocking));
  ASSERT_TRUE(pool.TrySubmit(blocking));
  EXPECT_FALSE(pool.TrySubmit([] {}));

  release.Notify();
  absl::Notification later;
  bool accepted = false;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       !accepted && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(1))) {
    accepted = pool.TrySubmit([&] { later.Notify(); });
  }
  EXPECT_TRUE(accepted);
  EXPECT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(running.load(), 2);
}

TEST(WorkerPoolTest, IdleThreadsAreReusedNotMultiplied) {
  WorkerPool pool(1);
  for (int i = 0; i < 100; ++i) {
    absl::Notification done;
    bool accepted = false;
    // The one thread may still be on its way back from the previous work.
    for (absl::Time deadline = absl::Now() + absl::Seconds(10);
         !accepted && absl::Now() < deadline;) {
      accepted = pool.TrySubmit([&] { done.Notify(); });
    }
    ASSERT_TRUE(accepted) << "work " << i;
    done.WaitForNotification();
  }
}

TEST(WorkerPoolTest, StopWaitsForRunningWorkAndRefusesMore) {
  WorkerPool pool(2);
  std::atomic<bool> finished{false};
  absl::Notification started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.Notify();
    absl::SleepFor(absl::Milliseconds(50));
    finished = true;
  }));
  started.WaitForNotification();
  pool.Stop();
  EXPECT_TRUE(finished.load());
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

}  // namespace
}  // namespace tasks::service
