// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Tasks: create, read, update, delete.

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
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

using ::google::protobuf::Timestamp;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, CreateTaskAppliesSchemaDefaults) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Minimal")));
  EXPECT_GT(task.id(), 0);
  EXPECT_EQ(task.title(), "Minimal");
  EXPECT_EQ(task.status(), v1::Task::PENDING);
  EXPECT_EQ(task.priority(), v1::Task::MEDIUM);
  EXPECT_FALSE(task.has_project_id());
  EXPECT_EQ(task.description(), "");
  EXPECT_EQ(task.metadata().fields_size(), 0);
  EXPECT_GT(task.create_time().seconds(), 0);
  EXPECT_GE(task.update_time(), task.create_time());
  EXPECT_FALSE(task.etag().empty());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, CreateTaskKeepsEveryGivenField) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  v1::Task draft = TaskBuilder("Report")
                       .InProject(project.id())
                       .WithDescription("quarterly")
                       .WithStatus(v1::Task::IN_PROGRESS)
                       .WithPriority(v1::Task::HIGH)
                       .WithMetadataJson(R"({"estimate_hours": 4})");
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));
  EXPECT_EQ(task.project_id(), project.id());
  EXPECT_EQ(task.title(), "Report");
  EXPECT_EQ(task.description(), "quarterly");
  EXPECT_EQ(task.status(), v1::Task::IN_PROGRESS);
  EXPECT_EQ(task.priority(), v1::Task::HIGH);
  EXPECT_THAT(task.metadata(), EqualsProto(draft.metadata()));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, CreateTaskAssignsItsOwnIdTimesAndEtag) {
  Timestamp long_ago;
  long_ago.set_seconds(1000);
  v1::Task draft = TaskBuilder("Fresh").WithId(777777).WithEtag("forged");
  *draft.mutable_create_time() = long_ago;
  *draft.mutable_update_time() = long_ago;

  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(draft));

  EXPECT_NE(task.id(), 777777);
  EXPECT_NE(task.etag(), "forged");
  EXPECT_GT(task.create_time(), long_ago);
  EXPECT_GT(task.update_time(), long_ago);
  EXPECT_THAT(store().GetTask(777777, kEveryRow), StatusIs(Code::kNotFound));
}

TEST_P(TaskStoreTest, GetTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(store().GetTask(424242, kEveryRow),
              AllOf(StatusIs(Code::kNotFound, HasSubstr("424242")),
                    ReasonIs(reason::kTaskNotFound)));
}

TEST_P(TaskStoreTest, ExtremeIdsAreNotFound) {
  ASSERT_OK(CreateTask(TaskBuilder("t")));
  ASSERT_OK(CreateProject("p"));
  for (int64_t id :
       {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().GetTask(id, kEveryRow), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().DeleteTask(id, kEveryRow), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().UpdateTask(TaskBuilder("x").WithId(id),
                                   MaskOf({"title"}), kEveryRow),
                StatusIs(Code::kNotFound));
    EXPECT_THAT(store().GetProject(id), StatusIs(Code::kNotFound));
    EXPECT_THAT(store().DeleteProject(id, /*cascade=*/true),
                StatusIs(Code::kNotFound));
  }
  EXPECT_THAT(ListTitles(), IsOkAndHolds(ElementsAre("t")));
}

TEST_P(TaskStoreTest, UpdateTaskChangesTitleAndStatusAndEtag) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Original")));
  v1::Task change =
      TaskBuilder("Updated").WithId(task.id()).WithStatus(v1::Task::COMPLETED);

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"title", "status"}), kEveryRow));

  EXPECT_EQ(updated.id(), task.id());
  EXPECT_EQ(updated.title(), "Updated");
  EXPECT_EQ(updated.status(), v1::Task::COMPLETED);
  EXPECT_NE(updated.etag(), task.etag());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateTaskTouchesOnlyMaskedFields) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Title")
                                      .InProject(project.id())
                                      .WithDescription("description")
                                      .WithStatus(v1::Task::PENDING)
                                      .WithPriority(v1::Task::LOW)
                                      .WithMetadataJson(R"({"a": 1})")));
  v1::Task change = TaskBuilder("Other title")
                        .WithId(task.id())
                        .InProject(other.id())
                        .WithDescription("other description")
                        .WithStatus(v1::Task::COMPLETED)
                        .WithPriority(v1::Task::HIGH)
                        .WithMetadataJson(R"({"b": 2})");

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"priority"}), kEveryRow));

  v1::Task expected = task;
  expected.set_priority(v1::Task::HIGH);
  *expected.mutable_update_time() = updated.update_time();
  expected.set_etag(updated.etag());
  EXPECT_THAT(updated, EqualsProto(expected));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(expected)));
}

TEST_P(TaskStoreTest, UpdateTaskMovesTaskBetweenProjectsAndOutOfAny) {
  ASSERT_OK_AND_ASSIGN(v1::Project first, CreateProject("First"));
  ASSERT_OK_AND_ASSIGN(v1::Project second, CreateProject("Second"));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Mover").InProject(first.id())));

  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("Mover").WithId(task.id()).InProject(second.id()),
          MaskOf({"project_id"}), kEveryRow));
  EXPECT_EQ(moved.project_id(), second.id());

  // project_id in the mask but absent from the task: no project.
  ASSERT_OK_AND_ASSIGN(
      v1::Task loose, store().UpdateTask(TaskBuilder("Mover").WithId(task.id()),
                                         MaskOf({"project_id"}), kEveryRow));
  EXPECT_FALSE(loose.has_project_id());
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose)));
}

TEST_P(TaskStoreTest, UpdateTaskReplacesMetadataWhole) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      CreateTask(TaskBuilder("Meta").WithMetadataJson(R"({"a": 1, "b": 2})")));
  v1::Task change =
      TaskBuilder("Meta").WithId(task.id()).WithMetadataJson(R"({"c": [3]})");

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"metadata"}), kEveryRow));

  EXPECT_THAT(updated.metadata(), EqualsProto(change.metadata()));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateTaskWithMatchingEtagSucceedsAndChangesEtag) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Guarded")));
  v1::Task change = TaskBuilder("Guarded")
                        .WithId(task.id())
                        .WithStatus(v1::Task::IN_PROGRESS)
                        .WithEtag(task.etag());

  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"status"}), kEveryRow));

  EXPECT_EQ(updated.status(), v1::Task::IN_PROGRESS);
  EXPECT_NE(updated.etag(), task.etag());
  EXPECT_FALSE(updated.etag().empty());
}

TEST_P(TaskStoreTest, UpdateTaskWithStaleEtagIsAbortedAndRowUnchanged) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Guarded")));
  ASSERT_OK_AND_ASSIGN(
      v1::Task current,
      store().UpdateTask(
          TaskBuilder("Guarded").WithId(task.id()).WithPriority(v1::Task::HIGH),
          MaskOf({"priority"}), kEveryRow));
  ASSERT_NE(current.etag(), task.etag());

  v1::Task stale = TaskBuilder("Clobbered")
                       .WithId(task.id())
                       .WithStatus(v1::Task::COMPLETED)
                       .WithEtag(task.etag());
  EXPECT_THAT(store().UpdateTask(stale, MaskOf({"title", "status"}), kEveryRow),
              AllOf(StatusIs(Code::kAborted), ReasonIs(reason::kEtagMismatch)));

  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(current)));
}

// An etag is opaque: only its exact text matches, not another spelling of
// the revision inside it.
TEST_P(TaskStoreTest, OnlyTheEtagsExactTextMatches) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Exact")));
  ASSERT_EQ(task.etag(), "\"1\"");
  for (const char* spelling :
       {"\"01\"", "\"+1\"", "\"1.0\"", "1", "W/\"1\"", " \"1\"", "\"1\" "}) {
    SCOPED_TRACE(spelling);
    EXPECT_THAT(
        store().UpdateTask(
            TaskBuilder("Respelled").WithId(task.id()).WithEtag(spelling),
            MaskOf({"title"}), kEveryRow),
        AllOf(StatusIs(Code::kAborted), ReasonIs(reason::kEtagMismatch)));
  }
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
  EXPECT_THAT(
      store().UpdateTask(
          TaskBuilder("Exact too").WithId(task.id()).WithEtag(task.etag()),
          MaskOf({"title"}), kEveryRow),
      ::tasks::testing::IsOk());
}

TEST_P(TaskStoreTest, UpdateTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(
      store().UpdateTask(TaskBuilder("Ghost").WithId(424242), MaskOf({"title"}),
                         kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
}

TEST_P(TaskStoreTest, UpdateTaskToTitleTakenInProjectIsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK(CreateTask(TaskBuilder("Taken").InProject(project.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Free").InProject(project.id())));

  EXPECT_THAT(
      store().UpdateTask(TaskBuilder("Taken").WithId(task.id()),
                         MaskOf({"title"}), kEveryRow),
      AllOf(StatusIs(Code::kAlreadyExists), ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

// The clash is named by the row the update would make: the stored title
// when only the project moves, the stored project when only the title
// changes, whatever else the request carries.
TEST_P(TaskStoreTest, UpdateTaskTitleClashNamesTheProjectAndTitleThatClash) {
  ASSERT_OK_AND_ASSIGN(v1::Project home, CreateProject("Home"));
  ASSERT_OK_AND_ASSIGN(v1::Project work, CreateProject("Work"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  ASSERT_OK(CreateTask(TaskBuilder("Report").InProject(work.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Taken").InProject(home.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task task,
                       CreateTask(TaskBuilder("Report").InProject(home.id())));
  const AccessScope home_and_work =
      AccessScope::Projects({home.id(), work.id()});

  EXPECT_THAT(
      store().UpdateTask(TaskBuilder("").WithId(task.id()).InProject(work.id()),
                         MaskOf({"project_id"}), home_and_work),
      AllOf(StatusIs(Code::kAlreadyExists,
                     HasSubstr(absl::StrCat("project ", work.id(),
                                            " already has a task titled "
                                            "\"Report\""))),
            ReasonIs(reason::kTitleTaken)));
  const std::string in_home = absl::StrCat(
      "project ", home.id(), " already has a task titled \"Taken\"");
  EXPECT_THAT(store().UpdateTask(
                  TaskBuilder("Taken").WithId(task.id()).InProject(other.id()),
                  MaskOf({"title"}), home_and_work),
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr(in_home)),
                    ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(store().UpdateTask(TaskBuilder("Taken").WithId(task.id()),
                                 MaskOf({"title"}), home_and_work),
              StatusIs(Code::kAlreadyExists, HasSubstr(in_home)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, UpdateTaskToMissingProjectIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("Loose")));
  EXPECT_THAT(store().UpdateTask(
                  TaskBuilder("Loose").WithId(task.id()).InProject(987654),
                  MaskOf({"project_id"}), kEveryRow),
              AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("987654")),
                    ReasonIs(reason::kProjectMissing)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, DeleteTaskRemovesItAndSecondDeleteIsNotFound) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("To delete")));
  ASSERT_OK_AND_ASSIGN(v1::Task kept, CreateTask(TaskBuilder("To keep")));

  ASSERT_OK(store().DeleteTask(task.id(), kEveryRow));

  EXPECT_THAT(store().GetTask(task.id(), kEveryRow), StatusIs(Code::kNotFound));
  EXPECT_THAT(
      store().DeleteTask(task.id(), kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
  EXPECT_THAT(store().GetTask(kept.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(kept)));
}

TEST_P(TaskStoreTest, DeleteTaskWithUnknownIdIsNotFound) {
  EXPECT_THAT(
      store().DeleteTask(424242, kEveryRow),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kTaskNotFound)));
}

TEST_P(TaskStoreTest, CreateAppliesDefaultsAndRoundTripsMetadataAndTimes) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task created,
      CreateTask(TaskBuilder("write").WithMetadataJson(
          R"({"a": [1, 2.5, "x", null, true, {"b": {}}], "s": "it's; DROP TABLE tasks; --", "n": -1e300})")));
  EXPECT_GT(created.id(), 0);
  EXPECT_EQ(created.status(), v1::Task::PENDING);
  EXPECT_EQ(created.priority(), v1::Task::MEDIUM);
  EXPECT_EQ(created.etag(), "\"1\"");
  EXPECT_GT(created.create_time().seconds(), 1600000000);
  EXPECT_EQ(created.create_time().nanos() % 1000, 0);
  EXPECT_FALSE(created.has_project_id());
  EXPECT_THAT(store().GetTask(created.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(created)));
}

TEST_P(TaskStoreTest, UpdateChecksEtagAndMask) {
  ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder("u")));
  const v1::Task change =
      TaskBuilder("u2").WithId(task.id()).WithEtag(task.etag());
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(change, MaskOf({"title"}), kEveryRow));
  EXPECT_EQ(updated.title(), "u2");
  EXPECT_EQ(updated.etag(), "\"2\"");
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), kEveryRow),
              ReasonIs(reason::kEtagMismatch));
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"id"}), kEveryRow),
              ReasonIs(reason::kInvalidFieldMask));
  EXPECT_THAT(store().UpdateTask(TaskBuilder("x").WithId(999999),
                                 MaskOf({"title"}), kEveryRow),
              ReasonIs(reason::kTaskNotFound));
}

}  // namespace
}  // namespace tasks::storage
