// DeferredTaskStore forwards the change log to the store it installs.

#include "service/deferred_task_store.h"

#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_changes.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {
namespace {

using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::SizeIs;

TEST(DeferredTaskStoreTest, ChangeLogIsUnavailableUntilAStoreIsSet) {
  DeferredTaskStore store;
  EXPECT_THAT(store.LatestChangePosition(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.ReadChanges(storage::ChangePosition(), 10),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.SequenceChanges(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.WaitForChanges(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.TrimChanges(absl::Now()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(DeferredTaskStoreTest, ForwardsTheChangeLog) {
  DeferredTaskStore store;
  absl::StatusOr<storage::TaskStorePtr> opened =
      storage::OpenSociTaskStore(":memory:");
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_TRUE(store.Set(*std::move(opened)));
  absl::StatusOr<storage::ChangePosition> start = store.LatestChangePosition();
  ASSERT_TRUE(start.ok()) << start.status();
  ASSERT_TRUE(store.CreateTask(TaskBuilder("one"), "").ok());
  EXPECT_THAT(store.SequenceChanges(), IsOkAndHolds(0));
  EXPECT_THAT(store.ReadChanges(*start, 10), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store.WaitForChanges(absl::Milliseconds(1)), IsOkAndHolds(false));
  EXPECT_TRUE(store.TrimChanges(absl::Now() + absl::Minutes(1)).ok());
  EXPECT_THAT(store.ReadChanges(*start, 10),
              StatusIs(absl::StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace tasks::service
