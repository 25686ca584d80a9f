// WorkerPool: work runs on its threads, never more than max_threads at once,
// and work beyond them is refused rather than queued; one caller's past its
// share, while half of them are in use.
#include "service/worker_pool.h"

#include <atomic>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

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
  absl::Notification release;  // outlives the pool, whose threads wait on it
  std::atomic<int> running{0};
  WorkerPool pool(2);
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

// Work that runs until `release` is notified.
std::function<void()> Blocking(absl::Notification& release) {
  return [&release] { release.WaitForNotification(); };
}

// Names `caller` when the pool asks.
auto As(std::string caller) {
  return [caller = std::move(caller)] { return caller; };
}

constexpr WorkerPool::Admission kRunning = WorkerPool::kRunning;
constexpr WorkerPool::Admission kAllBusy = WorkerPool::kAllBusy;
constexpr WorkerPool::Admission kOverShare = WorkerPool::kOverShare;

// Submits work blocked on `release` for each caller in turn: each must be
// admitted (or refused) as its step says.
void ExpectAdmissions(
    WorkerPool& pool, absl::Notification& release,
    std::initializer_list<std::pair<const char*, WorkerPool::Admission>>
        steps) {
  int step = 0;
  for (const auto& [caller, admission] : steps) {
    EXPECT_EQ(pool.Submit(Blocking(release), As(caller)), admission)
        << "step " << step << ", caller \"" << caller << "\"";
    ++step;
  }
}

TEST(WorkerPoolTest, ACallerPastItsShareIsRefusedOnceHalfTheThreadsAreInUse) {
  // Before the pool: its threads wait on it until the pool is gone.
  absl::Notification release;
  WorkerPool pool(8, /*per_caller=*/true);
  ExpectAdmissions(pool, release,
                   {// Alone, a caller takes half of the threads.
                    {"greedy", kRunning},
                    {"greedy", kRunning},
                    {"greedy", kRunning},
                    {"greedy", kRunning},
                    {"greedy", kOverShare},
                    // Others still get their share of the rest.
                    {"b", kRunning},
                    {"b", kRunning},
                    {"b", kOverShare},
                    {"c", kRunning},
                    {"", kRunning},
                    // Every thread in use: anyone is refused.
                    {"d", kAllBusy},
                    {"", kAllBusy}});
  EXPECT_EQ(pool.stats().rejected, 2);
  EXPECT_EQ(pool.stats().over_share, 2);
  release.Notify();
}

// Four callers flooding it, each within a quarter of the threads, would
// take every one; each is held to half of what is still free instead.
TEST(WorkerPoolTest, ManyCallersLeaveTheLastThreadsToCallersHoldingNone) {
  absl::Notification release;
  WorkerPool pool(8, /*per_caller=*/true);
  ExpectAdmissions(pool, release,
                   {{"a", kRunning},
                    {"b", kRunning},
                    {"c", kRunning},
                    {"d", kRunning},
                    // Half in use: a second each while it is under half of
                    // the free threads.
                    {"a", kRunning},
                    {"b", kRunning},
                    {"c", kOverShare},
                    {"d", kOverShare},
                    {"a", kOverShare},
                    // The last two go to callers holding none.
                    {"e", kRunning},
                    {"f", kRunning},
                    {"g", kAllBusy}});
  release.Notify();
}

TEST(WorkerPoolTest, ACallersShareComesBackAsItsWorkReturns) {
  absl::Notification release_first;
  absl::Notification release_rest;
  WorkerPool pool(4, /*per_caller=*/true);
  EXPECT_EQ(pool.Submit(Blocking(release_rest), As("b")), WorkerPool::kRunning);
  EXPECT_EQ(pool.Submit(Blocking(release_rest), As("b")), WorkerPool::kRunning);
  EXPECT_EQ(pool.Submit(Blocking(release_first), As("a")),
            WorkerPool::kRunning);
  EXPECT_EQ(pool.Submit(Blocking(release_rest), As("a")),
            WorkerPool::kOverShare);
  release_first.Notify();
  // Once its work has returned (on the worker's own time), "a" holds none.
  WorkerPool::Admission again = WorkerPool::kOverShare;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       again == WorkerPool::kOverShare && absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(1))) {
    again = pool.Submit(Blocking(release_rest), As("a"));
  }
  EXPECT_EQ(again, WorkerPool::kRunning);
  EXPECT_EQ(pool.Submit(Blocking(release_rest), As("a")),
            WorkerPool::kOverShare);
  release_rest.Notify();
}

// Naming a caller may cost a token check: a pool that shares nothing per
// caller never asks.
TEST(WorkerPoolTest, ACallerIsAskedForOnlyWhenSharedPerCaller) {
  for (const bool per_caller : {false, true}) {
    WorkerPool pool(2, per_caller);
    int asked = 0;
    EXPECT_EQ(pool.Submit([] {},
                          [&] {
                            ++asked;
                            return std::string("caller");
                          }),
              WorkerPool::kRunning);
    EXPECT_EQ(asked, per_caller ? 1 : 0) << per_caller;
  }
}

}  // namespace
}  // namespace tasks::service
