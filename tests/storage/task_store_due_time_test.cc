// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Task.due_time: an optional timestamp, settable on
// create and by update mask, orderable with tasks without one last, and
// filterable.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "storage/filter/filter.h"
#include "storage/filter/matches.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::google::protobuf::Timestamp;
using ::tasks::testing::MaskOf;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = ::absl::StatusCode;

Timestamp At(int64_t seconds, int32_t nanos = 0) {
  Timestamp time;
  time.set_seconds(seconds);
  time.set_nanos(nanos);
  return time;
}

v1::Task DueAt(absl::string_view title, const Timestamp& due) {
  v1::Task task = TaskBuilder(title);
  *task.mutable_due_time() = due;
  return task;
}

TEST_P(TaskStoreTest, DueTimeIsStoredToTheMicrosecondAndAbsentWhenUnset) {
  ASSERT_OK_AND_ASSIGN(v1::Task due,
                       CreateTask(DueAt("due", At(1767225600, 123456789))));
  ASSERT_OK_AND_ASSIGN(v1::Task undue, CreateTask(TaskBuilder("undue")));
  EXPECT_EQ(due.due_time().seconds(), 1767225600);
  EXPECT_EQ(due.due_time().nanos(), 123456000);
  EXPECT_FALSE(undue.has_due_time());
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(due.id(), kEveryRow));
  EXPECT_EQ(read.due_time().nanos(), 123456000);
  ASSERT_OK_AND_ASSIGN(read, store().GetTask(undue.id(), kEveryRow));
  EXPECT_FALSE(read.has_due_time());
}

TEST_P(TaskStoreTest, DueTimesBeforeTheEpochAndAtTheLimitsRoundTrip) {
  for (const Timestamp& due :
       {At(-1, 500000000), At(-62135596800), At(253402300799, 999999000)}) {
    ASSERT_OK_AND_ASSIGN(
        v1::Task task,
        CreateTask(DueAt(absl::StrCat("at ", due.seconds()), due)));
    EXPECT_EQ(task.due_time().seconds(), due.seconds());
    EXPECT_EQ(task.due_time().nanos(), due.nanos());
  }
}

TEST_P(TaskStoreTest, DueTimeOutsideTimestampRangeIsInvalidAndNothingStored) {
  for (const Timestamp& bad : {At(0, -1), At(0, 1000000000), At(253402300800),
                               At(-62135596801), At(INT64_MAX)}) {
    absl::StatusOr<v1::Task> created = CreateTask(DueAt("bad", bad));
    EXPECT_THAT(created,
                StatusIs(Code::kInvalidArgument, HasSubstr("task.due_time")));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> all, ListAllTasks());
  EXPECT_TRUE(all.empty());
}

TEST_P(TaskStoreTest, UpdateMaskSetsChangesAndClearsDueTime) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("plan")));
  v1::Task change;
  change.set_id(task.id());
  *change.mutable_due_time() = At(1800000000);
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"due_time"}), kEveryRow));
  EXPECT_EQ(updated.due_time().seconds(), 1800000000);
  EXPECT_EQ(updated.title(), "plan");

  // A mask without due_time leaves it.
  change.clear_due_time();
  change.set_title("renamed");
  ASSERT_OK_AND_ASSIGN(
      updated, store().UpdateTask(change, MaskOf({"title"}), kEveryRow));
  EXPECT_EQ(updated.due_time().seconds(), 1800000000);

  // Named in the mask and absent: cleared.
  ASSERT_OK_AND_ASSIGN(
      updated, store().UpdateTask(change, MaskOf({"due_time"}), kEveryRow));
  EXPECT_FALSE(updated.has_due_time());
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_FALSE(read.has_due_time());
}

TEST_P(TaskStoreTest, DueTimeOrdersPutTasksWithoutOneLastOnEveryPage) {
  ASSERT_OK(CreateTask(TaskBuilder("none 1")));
  ASSERT_OK(CreateTask(DueAt("late", At(3000))));
  ASSERT_OK(CreateTask(DueAt("early", At(-1000))));
  ASSERT_OK(CreateTask(TaskBuilder("none 2")));
  ASSERT_OK(CreateTask(DueAt("middle", At(2000))));
  ASSERT_OK(CreateTask(DueAt("middle too", At(2000))));
  for (int page_size : {1, 2, 1000}) {
    v1::ListTasksRequest request;
    request.set_order_by("due_time");
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                         ListAllTasks(store(), request, page_size));
    EXPECT_THAT(Titles(tasks), ElementsAre("early", "middle", "middle too",
                                           "late", "none 1", "none 2"))
        << "page size " << page_size;
    request.set_order_by("due_time desc");
    ASSERT_OK_AND_ASSIGN(tasks, ListAllTasks(store(), request, page_size));
    EXPECT_THAT(Titles(tasks), ElementsAre("late", "middle too", "middle",
                                           "early", "none 2", "none 1"))
        << "page size " << page_size;
  }
}

TEST_P(TaskStoreTest, DueTimeFiltersMatchTheEvaluator) {
  std::vector<v1::Task> created;
  for (int i = 0; i < 12; ++i) {
    v1::Task task = TaskBuilder(absl::StrCat("task ", i));
    if (i % 4 != 3) *task.mutable_due_time() = At(1767225600 + i * 3600);
    ASSERT_OK_AND_ASSIGN(v1::Task made, CreateTask(task));
    created.push_back(made);
  }
  for (const std::string& text : std::vector<std::string>{
           "due_time > \"2026-01-01T03:00:00Z\"",
           "due_time <= \"2026-01-01T05:00:00Z\"",
           "due_time = \"2026-01-01T02:00:00Z\"",
           "due_time != \"2026-01-01T02:00:00Z\"",
           "NOT due_time < \"2026-01-01T06:00:00Z\"",
           "due_time >= \"2026-01-01T01:00:00+01:00\" AND title:\"1\""}) {
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(filter::Node parsed, filter::ParseFilter(text));
    std::vector<std::string> expected;
    for (const v1::Task& task : created) {
      if (filter::Matches(parsed, task)) expected.push_back(task.title());
    }
    v1::ListTasksRequest request;
    request.set_filter(text);
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> titles, ListTitles(request));
    EXPECT_EQ(titles, expected);
  }
  // A task without a due time satisfies only !=.
  v1::ListTasksRequest request;
  request.set_filter("due_time != \"2026-01-01T02:00:00Z\"");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> titles, ListTitles(request));
  EXPECT_THAT(titles, ::testing::Contains("task 3"));
}

}  // namespace
}  // namespace tasks::storage
