#include "service/pool_plan.h"

#include "gtest/gtest.h"

namespace tasks::service {
namespace {

TEST(PlanPoolTest, DefaultPoolGrowsToLeaveRoomBesideTheLists) {
  // SQLite: 4 lists, the probe, a writer and one queue thread's reads.
  PoolPlan plan = PlanPool(0, 4, /*queue_thread_readers=*/1,
                           /*backend_default=*/4);
  EXPECT_EQ(plan.pool_size, 7);
  EXPECT_EQ(plan.max_concurrent_lists, 4);
  EXPECT_FALSE(plan.lists_lowered);
}

TEST(PlanPoolTest, BackendDefaultIsKeptWhenLarger) {
  PoolPlan plan = PlanPool(0, 4, /*queue_thread_readers=*/0,
                           /*backend_default=*/8);
  EXPECT_EQ(plan.pool_size, 8);
  EXPECT_EQ(plan.max_concurrent_lists, 4);
}

TEST(PlanPoolTest, RequestedPoolLargeEnoughIsKept) {
  PoolPlan plan = PlanPool(16, 4, /*queue_thread_readers=*/2,
                           /*backend_default=*/4);
  EXPECT_EQ(plan.pool_size, 16);
  EXPECT_EQ(plan.max_concurrent_lists, 4);
  EXPECT_FALSE(plan.lists_lowered);
}

TEST(PlanPoolTest, SmallRequestedPoolLowersTheLists) {
  PoolPlan plan = PlanPool(5, 4, /*queue_thread_readers=*/1,
                           /*backend_default=*/4);
  EXPECT_EQ(plan.pool_size, 5);
  EXPECT_EQ(plan.max_concurrent_lists, 2);
  EXPECT_TRUE(plan.lists_lowered);
}

TEST(PlanPoolTest, AtLeastOneListRunsHoweverSmallThePool) {
  PoolPlan plan = PlanPool(1, 4, /*queue_thread_readers=*/1,
                           /*backend_default=*/4);
  EXPECT_EQ(plan.pool_size, 1);
  EXPECT_EQ(plan.max_concurrent_lists, 1);
  EXPECT_TRUE(plan.lists_lowered);
}

}  // namespace
}  // namespace tasks::service
