#include "service/concurrency_limit.h"

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_cancellation.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

// A thread that waits for a slot of `limit` with `weight` and `key`, until
// a distant deadline, and tells whether it got one through `held`; returned
// once it waits.
std::thread WaitInBackground(ConcurrencyLimit& limit, int64_t weight,
                             std::atomic<bool>& held, std::string key = "") {
  const int before = limit.waiting();
  std::thread waiter([&limit, weight, &held, key] {
    ConcurrencyLimit::Slot slot(limit, absl::Now() + absl::Seconds(60), weight,
                                [&key] { return key; });
    held = slot.held();
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (limit.waiting() == before && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return waiter;
}

// A waiter of `weight` for each of `keys`, started in order (each waiting
// before the next starts), each setting its entry of `held`, from `next` on.
void AddWaiters(ConcurrencyLimit& limit, int64_t weight,
                std::initializer_list<const char*> keys,
                std::atomic<bool>* held, int& next,
                std::vector<std::thread>& waiters) {
  for (const char* key : keys) {
    waiters.push_back(WaitInBackground(limit, weight, held[next++], key));
  }
}

// Joins `waiters` and expects each of the `count` entries of `held` set.
void ExpectAllHeld(std::vector<std::thread>& waiters,
                   const std::atomic<bool>* held, int count) {
  for (std::thread& waiter : waiters) waiter.join();
  for (int i = 0; i < count; ++i) EXPECT_TRUE(held[i]) << "waiter " << i;
}

TEST(ConcurrencyLimitTest, SlotsUpToTheLimitAreHeldAtOnce) {
  ConcurrencyLimit limit(2, /*max_waiters=*/1);
  ConcurrencyLimit::Slot first(limit, absl::Now());
  ConcurrencyLimit::Slot second(limit, absl::Now());
  EXPECT_TRUE(first.held());
  EXPECT_TRUE(second.held());
  EXPECT_EQ(limit.in_use(), 2);
}

TEST(ConcurrencyLimitTest, OneMoreIsNotHeldWhenNoneFreesByTheDeadline) {
  ConcurrencyLimit limit(1, /*max_waiters=*/1);
  ConcurrencyLimit::Slot first(limit, absl::Now());
  const absl::Time start = absl::Now();
  ConcurrencyLimit::Slot second(limit, start + absl::Milliseconds(50));
  EXPECT_FALSE(second.held());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(limit.in_use(), 1);
}

TEST(ConcurrencyLimitTest, AWaiterGetsTheSlotOnceItIsReleased) {
  ConcurrencyLimit limit(1, /*max_waiters=*/1);
  absl::Notification waiting;
  std::atomic<bool> held{false};
  std::thread waiter;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiter = std::thread([&] {
      waiting.Notify();
      ConcurrencyLimit::Slot second(limit, absl::InfiniteFuture());
      held = second.held();
    });
    waiting.WaitForNotification();
  }
  waiter.join();
  EXPECT_TRUE(held);
  EXPECT_EQ(limit.in_use(), 0);
}

TEST(ConcurrencyLimitTest, OneMoreThanMaxWaitersIsRefusedAtOnce) {
  ConcurrencyLimit limit(1, /*max_waiters=*/1);
  std::atomic<bool> waiter_held{false};
  std::thread waiter;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiter = WaitInBackground(limit, /*weight=*/1, waiter_held);
    ASSERT_EQ(limit.waiting(), 1);
    // Refused without waiting for its (distant) deadline.
    const absl::Time start = absl::Now();
    ConcurrencyLimit::Slot third(limit, start + absl::Seconds(30));
    EXPECT_FALSE(third.held());
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    EXPECT_EQ(limit.waiting(), 1);
  }
  waiter.join();
  EXPECT_TRUE(waiter_held);
  EXPECT_EQ(limit.in_use(), 0);
  EXPECT_EQ(limit.waiting(), 0);
}

TEST(ConcurrencyLimitTest, OneWhoseWeightWouldPassTheMaxIsRefusedAtOnce) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10, /*max_waiting_weight=*/100);
  std::atomic<bool> waiter_held{false};
  std::thread waiter;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiter = WaitInBackground(limit, /*weight=*/60, waiter_held);
    ASSERT_EQ(limit.waiting(), 1);
    // 60 + 41 would pass 100, though a waiter's place is free.
    const absl::Time start = absl::Now();
    ConcurrencyLimit::Slot heavy(limit, start + absl::Seconds(30),
                                 /*weight=*/41);
    EXPECT_FALSE(heavy.held());
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    // 60 + 40 does not: it waits, until its short deadline.
    ConcurrencyLimit::Slot light(limit, absl::Now() + absl::Milliseconds(50),
                                 /*weight=*/40);
    EXPECT_FALSE(light.held());
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  }
  waiter.join();
  EXPECT_TRUE(waiter_held);
  EXPECT_EQ(limit.waiting(), 0);
}

TEST(ConcurrencyLimitTest, AFreeSlotIsTakenWhateverTheWeight) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10, /*max_waiting_weight=*/100);
  ConcurrencyLimit::Slot heavy(limit, absl::Now(), /*weight=*/1000);
  EXPECT_TRUE(heavy.held());
}

TEST(ConcurrencyLimitTest, AWaiterThatGaveUpGivesItsWeightBack) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10, /*max_waiting_weight=*/100);
  ConcurrencyLimit::Slot first(limit, absl::Now());
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Each waits out its deadline: the first's weight was given back.
    const absl::Time start = absl::Now();
    ConcurrencyLimit::Slot full(limit, start + absl::Milliseconds(20),
                                /*weight=*/100);
    EXPECT_FALSE(full.held());
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(20)) << attempt;
  }
  EXPECT_EQ(limit.waiting(), 0);
}

TEST(ConcurrencyLimitTest, AWaiterWhoseCallIsCancelledStopsWaitingAtOnce) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10);
  ConcurrencyLimit::Slot first(limit, absl::Now());
  CallCancellation cancellation;
  absl::Time stopped;
  bool held = false;
  bool cancelled = false;
  std::thread waiter([&] {
    ConcurrencyLimit::Slot slot(
        limit, absl::Now() + absl::Seconds(60), /*weight=*/1,
        [] { return std::string(); }, &cancellation);
    stopped = absl::Now();
    held = slot.held();
    cancelled = slot.cancelled();
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (limit.waiting() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(limit.waiting(), 1);
  const absl::Time cancelled_at = absl::Now();
  cancellation.Cancel();
  waiter.join();
  EXPECT_FALSE(held);
  EXPECT_TRUE(cancelled);
  EXPECT_LT(stopped - cancelled_at, absl::Seconds(5));
  EXPECT_EQ(limit.waiting(), 0);
  EXPECT_EQ(limit.in_use(), 1);
  EXPECT_EQ(limit.stats().refused, 0);  // its client left: nobody refused it
}

TEST(ConcurrencyLimitTest, ACancelledCallTakesNoFreeSlot) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10);
  CallCancellation cancellation;
  cancellation.Cancel();
  {
    ConcurrencyLimit::Slot slot(
        limit, absl::Now(), /*weight=*/1, [] { return std::string(); },
        &cancellation);
    EXPECT_TRUE(slot.cancelled());
    EXPECT_FALSE(slot.held());
    EXPECT_EQ(limit.in_use(), 0);
  }
  EXPECT_EQ(limit.in_use(), 0);
}

// A Slot of `key` that may wait until `deadline`.
ConcurrencyLimit::Slot KeyedSlot(ConcurrencyLimit& limit, absl::Time deadline,
                                 int64_t weight, const std::string& key) {
  return ConcurrencyLimit::Slot(limit, deadline, weight, [&] { return key; });
}

TEST(ConcurrencyLimitTest, ACallerAtItsShareOfWaitersIsRefusedOthersWait) {
  ConcurrencyLimit limit(1, /*max_waiters=*/5, INT64_MAX, /*shares=*/2);
  std::atomic<bool> held[4] = {false, false, false, false};
  std::vector<std::thread> waiters;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiters.push_back(WaitInBackground(limit, 1, held[0], "greedy"));
    waiters.push_back(WaitInBackground(limit, 1, held[1], "greedy"));
    ASSERT_EQ(limit.waiting(), 2);
    // Its third is refused at once (5 / 2 places each), places being free.
    const absl::Time start = absl::Now();
    ConcurrencyLimit::Slot third =
        KeyedSlot(limit, start + absl::Seconds(30), 1, "greedy");
    EXPECT_FALSE(third.held());
    EXPECT_TRUE(third.over_share());
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    // Another caller, and calls of no caller, still wait.
    waiters.push_back(WaitInBackground(limit, 1, held[2], "other"));
    waiters.push_back(WaitInBackground(limit, 1, held[3]));
    EXPECT_EQ(limit.waiting(), 4);
  }
  ExpectAllHeld(waiters, held, std::size(held));
  // Its share is whole again once its waiters are served.
  std::atomic<bool> again[2] = {false, false};
  waiters.clear();
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiters.push_back(WaitInBackground(limit, 1, again[0], "greedy"));
    waiters.push_back(WaitInBackground(limit, 1, again[1], "greedy"));
    EXPECT_EQ(limit.waiting(), 2);
  }
  ExpectAllHeld(waiters, again, std::size(again));
  EXPECT_EQ(limit.waiting(), 0);
}

// Four callers each within its quarter could take every place; each is
// also held to half of the places still free, so the last stay for others.
TEST(ConcurrencyLimitTest, ManyCallersLeaveTheLastPlacesToCallersWaitingNone) {
  ConcurrencyLimit limit(1, /*max_waiters=*/8, INT64_MAX, /*shares=*/4);
  std::atomic<bool> held[8] = {};
  std::vector<std::thread> waiters;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    int next = 0;
    AddWaiters(limit, 1, {"a", "a", "b", "b", "c", "c", "d"}, held, next,
               waiters);
    ASSERT_EQ(limit.waiting(), 7);
    // d's second is within its quarter (2 of 8) but not within half of the
    // one place still free: refused before it would wait (a refusal for its
    // deadline would not be for its share).
    ConcurrencyLimit::Slot second = KeyedSlot(limit, absl::Now(), 1, "d");
    EXPECT_TRUE(second.over_share());
    // A caller waiting for none takes that place.
    waiters.push_back(WaitInBackground(limit, 1, held[next], "e"));
    EXPECT_EQ(limit.waiting(), 8);
  }
  ExpectAllHeld(waiters, held, std::size(held));
}

TEST(ConcurrencyLimitTest, ACallersWaitingWeightIsBoundByItsShare) {
  ConcurrencyLimit limit(1, /*max_waiters=*/10, /*max_waiting_weight=*/100,
                         /*shares=*/4);
  std::atomic<bool> held[2] = {false, false};
  std::vector<std::thread> waiters;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    waiters.push_back(WaitInBackground(limit, 20, held[0], "greedy"));
    // 20 + 10 would pass its 25, though the total has room.
    ConcurrencyLimit::Slot heavy =
        KeyedSlot(limit, absl::Now() + absl::Seconds(30), 10, "greedy");
    EXPECT_TRUE(heavy.over_share());
    waiters.push_back(WaitInBackground(limit, 20, held[1], "other"));
    EXPECT_EQ(limit.waiting(), 2);
  }
  ExpectAllHeld(waiters, held, std::size(held));
}

// Likewise for the weight: a caller already waiting with half of what is
// still free waits for no more, though within its quarter.
TEST(ConcurrencyLimitTest, ACallersWaitingWeightIsBoundByHalfOfWhatIsFree) {
  ConcurrencyLimit limit(1, /*max_waiters=*/100, /*max_waiting_weight=*/100,
                         /*shares=*/4);
  std::atomic<bool> held[4] = {false, false, false, false};
  std::vector<std::thread> waiters;
  {
    ConcurrencyLimit::Slot first(limit, absl::Now());
    int next = 0;
    AddWaiters(limit, 20, {"a", "b", "c"}, held, next, waiters);
    // c waits with 20 of its 25; 40 are free, of which 20 is half.
    ConcurrencyLimit::Slot more = KeyedSlot(limit, absl::Now(), 1, "c");
    EXPECT_TRUE(more.over_share());
    // A caller waiting with nothing still gets its place.
    waiters.push_back(WaitInBackground(limit, 20, held[next], "d"));
    EXPECT_EQ(limit.waiting(), 4);
  }
  ExpectAllHeld(waiters, held, std::size(held));
}

TEST(ConcurrencyLimitTest, ACallerWhoseWaiterGaveUpHasItsShareBack) {
  ConcurrencyLimit limit(1, /*max_waiters=*/4, INT64_MAX, /*shares=*/4);
  ConcurrencyLimit::Slot first(limit, absl::Now());
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Each waits out its deadline (one place each): the first's was given
    // back.
    const absl::Time start = absl::Now();
    ConcurrencyLimit::Slot late =
        KeyedSlot(limit, start + absl::Milliseconds(20), 1, "greedy");
    EXPECT_FALSE(late.held());
    EXPECT_FALSE(late.over_share()) << attempt;
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(20)) << attempt;
  }
  EXPECT_EQ(limit.waiting(), 0);
}

TEST(ConcurrencyLimitTest, ACallerIsAskedForOnlyWhenItMustWait) {
  ConcurrencyLimit limit(1, /*max_waiters=*/4, INT64_MAX, /*shares=*/4);
  int asked = 0;
  ConcurrencyLimit::Slot free(limit, absl::Now(), 1, [&] {
    ++asked;
    return std::string("caller");
  });
  EXPECT_TRUE(free.held());
  EXPECT_EQ(asked, 0);
}

TEST(ConcurrencyLimitTest, ManyThreadsNeverHoldMoreThanTheLimit) {
  constexpr int kLimit = 3;
  ConcurrencyLimit limit(kLimit, /*max_waiters=*/16);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        ConcurrencyLimit::Slot slot(limit, absl::InfiniteFuture());
        ASSERT_TRUE(slot.held());
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --inside;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(limit.in_use(), 0);
}

}  // namespace
}  // namespace tasks::service
