// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Projects: create, read, update, delete and list.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::MaskOf;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, CreateProjectAssignsIdAndTimes) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  EXPECT_GT(project.id(), 0);
  EXPECT_EQ(project.name(), "Home");
  EXPECT_EQ(project.description(), "chores");
  EXPECT_GT(project.create_time().seconds(), 0);
  EXPECT_GE(project.update_time(), project.create_time());
}

TEST_P(TaskStoreTest, GetProjectReturnsTheCreatedProject) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
}

TEST_P(TaskStoreTest, GetProjectWithUnknownIdIsNotFound) {
  EXPECT_THAT(store().GetProject(424242),
              AllOf(StatusIs(Code::kNotFound, HasSubstr("424242")),
                    ReasonIs(reason::kProjectNotFound)));
}

TEST_P(TaskStoreTest, UpdateProjectChangesOnlyMaskedFieldsAndUpdateTime) {
  ASSERT_OK_AND_ASSIGN(v1::Project project,
                       store().CreateProject(ProjectNamed("Home", "chores")));
  absl::SleepFor(absl::Milliseconds(5));
  v1::Project change = ProjectNamed("House", "ignored");
  change.set_id(project.id());

  ASSERT_OK_AND_ASSIGN(v1::Project updated,
                       store().UpdateProject(change, MaskOf({"name"})));

  EXPECT_EQ(updated.name(), "House");
  EXPECT_EQ(updated.description(), "chores");
  EXPECT_EQ(updated.create_time(), project.create_time());
  EXPECT_GT(updated.update_time(), project.update_time());
  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(updated)));
}

TEST_P(TaskStoreTest, UpdateProjectWithUnknownIdIsNotFound) {
  v1::Project change = ProjectNamed("House");
  change.set_id(424242);
  EXPECT_THAT(
      store().UpdateProject(change, MaskOf({"name"})),
      AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kProjectNotFound)));
}

TEST_P(TaskStoreTest, DeleteProjectWithoutTasksRemovesIt) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Empty"));
  ASSERT_OK(store().DeleteProject(project.id(), /*cascade=*/false));
  EXPECT_THAT(store().GetProject(project.id()), StatusIs(Code::kNotFound));
}

TEST_P(TaskStoreTest, DeleteProjectWithUnknownIdIsNotFound) {
  for (bool cascade : {false, true}) {
    SCOPED_TRACE(absl::StrCat("cascade=", cascade));
    EXPECT_THAT(
        store().DeleteProject(424242, cascade),
        AllOf(StatusIs(Code::kNotFound), ReasonIs(reason::kProjectNotFound)));
  }
}

TEST_P(TaskStoreTest,
       DeleteProjectWithTasksWithoutCascadeIsFailedPreconditionAndKeepsAll) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Busy"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task, CreateTask(TaskBuilder("Chore").InProject(project.id())));

  EXPECT_THAT(store().DeleteProject(project.id(), /*cascade=*/false),
              AllOf(StatusIs(Code::kFailedPrecondition),
                    ReasonIs(reason::kProjectHasTasks)));

  EXPECT_THAT(store().GetProject(project.id()),
              IsOkAndHolds(EqualsProto(project)));
  EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(task)));
}

TEST_P(TaskStoreTest, DeleteProjectWithCascadeDeletesItsTasksOnly) {
  ASSERT_OK_AND_ASSIGN(v1::Project doomed, CreateProject("Doomed"));
  ASSERT_OK_AND_ASSIGN(v1::Project kept, CreateProject("Kept"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task doomed1,
      CreateTask(TaskBuilder("Task 1").InProject(doomed.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Task doomed2,
      CreateTask(TaskBuilder("Task 2").InProject(doomed.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task other,
                       CreateTask(TaskBuilder("Task 1").InProject(kept.id())));
  ASSERT_OK_AND_ASSIGN(v1::Task loose, CreateTask(TaskBuilder("Loose")));

  ASSERT_OK(store().DeleteProject(doomed.id(), /*cascade=*/true));

  EXPECT_THAT(store().GetProject(doomed.id()), StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetTask(doomed1.id(), kEveryRow),
              StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetTask(doomed2.id(), kEveryRow),
              StatusIs(Code::kNotFound));
  EXPECT_THAT(store().GetProject(kept.id()), IsOkAndHolds(EqualsProto(kept)));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> left, ListAllTasks());
  EXPECT_THAT(Ids(left), UnorderedElementsAre(other.id(), loose.id()));
}

TEST_P(TaskStoreTest, ListProjectsPagesInIdOrderWithInsertsBetweenPages) {
  std::vector<int64_t> created;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         CreateProject(absl::StrCat("Project ", i)));
    created.push_back(project.id());
  }
  std::vector<int64_t> seen;
  std::string token;
  for (int page = 0; page < 20; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse response,
                         store().ListProjects(2, token));
    EXPECT_LE(response.projects_size(), 2);
    for (const v1::Project& project : response.projects()) {
      seen.push_back(project.id());
    }
    if (page < 2) {
      ASSERT_OK_AND_ASSIGN(v1::Project project,
                           CreateProject(absl::StrCat("Later ", page)));
      created.push_back(project.id());
    }
    token = response.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_TRUE(token.empty()) << "never reached the last page";
  // Ids grow, so projects created between pages come after the cursor.
  EXPECT_THAT(seen, ElementsAreArray(created));
}

TEST_P(TaskStoreTest, ListProjectsWithTamperedTokenIsInvalidArgument) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(CreateProject(absl::StrCat("Project ", i)));
  }
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse first,
                       store().ListProjects(1, ""));
  const std::string& token = first.next_page_token();
  ASSERT_FALSE(token.empty());
  ASSERT_OK(store().ListProjects(1, token));

  std::string flipped = token;
  flipped[flipped.size() / 2] ^= 0x01;
  for (const std::string& bad :
       {flipped, token.substr(0, token.size() / 2), token + "A",
        std::string("1"), std::string("not a token")}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(store().ListProjects(1, bad),
                AllOf(StatusIs(Code::kInvalidArgument),
                      ReasonIs(reason::kInvalidPageToken)));
  }
}

}  // namespace
}  // namespace tasks::storage
