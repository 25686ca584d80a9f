// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Times: microsecond UTC round trips and creation order.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAreArray;
using ::testing::SizeIs;

TEST_P(TaskStoreTest, TimesRoundTripToTheMicrosecondInUtc) {
  // Asserted against the wall clock, the UTC instants must be right whatever
  // the process's and server's time zone (the BUILD file sets one far from
  // UTC).
  const absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Timed")));
  const absl::Time after = absl::Now();

  const absl::Time created = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(task.create_time()));
  EXPECT_GE(created, before - absl::Seconds(1)) << task.create_time();
  EXPECT_LE(created, after + absl::Seconds(1)) << task.create_time();
  EXPECT_EQ(task.create_time().nanos() % 1000, 0);
  EXPECT_EQ(task.update_time().nanos() % 1000, 0);

  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_EQ(read.create_time(), task.create_time());
  EXPECT_EQ(read.update_time(), task.update_time());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].create_time(), task.create_time());

  absl::SleepFor(absl::Milliseconds(5));
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(TaskBuilder("Timed again").WithId(task.id()),
                         MaskOf({"title"}), kEveryRow));
  EXPECT_EQ(updated.create_time(), task.create_time());
  EXPECT_GT(updated.update_time(), task.update_time());
  EXPECT_LE(updated.update_time(),
            TimeUtil::MicrosecondsToTimestamp(
                absl::ToUnixMicros(absl::Now() + absl::Seconds(1))));
  EXPECT_EQ(updated.update_time().nanos() % 1000, 0);
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, CreateTimeOrderFollowsCreationAcrossManyTasks) {
  std::vector<int64_t> created;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Task task,
                         CreateTask(TaskBuilder(absl::StrCat("t", i))));
    created.push_back(task.id());
  }
  v1::ListTasksRequest request;
  request.set_order_by("create_time");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> ascending,
                       ListAllTasks(store(), request, 3));
  EXPECT_THAT(Ids(ascending), ElementsAreArray(created));
  request.set_order_by("create_time desc");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> descending,
                       ListAllTasks(store(), request, 3));
  std::reverse(created.begin(), created.end());
  EXPECT_THAT(Ids(descending), ElementsAreArray(created));
}

}  // namespace
}  // namespace tasks::storage
