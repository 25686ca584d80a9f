// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Relationships and the typed ListTasks filters.

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
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
using ::tasks::testing::TaskBuilder;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST_P(TaskStoreTest, TaskReferencesItsProject) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Test Project"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task task,
      CreateTask(TaskBuilder("Project Task").InProject(project.id())));
  ASSERT_TRUE(task.has_project_id());
  EXPECT_EQ(task.project_id(), project.id());
  ASSERT_OK_AND_ASSIGN(v1::Task read, store().GetTask(task.id(), kEveryRow));
  EXPECT_THAT(store().GetProject(read.project_id()),
              IsOkAndHolds(EqualsProto(project)));
}

TEST_P(TaskStoreTest, ProjectListsExactlyItsTasks) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Multi-Task"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  ASSERT_OK(CreateTask(TaskBuilder("Task 1").InProject(project.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 2").InProject(project.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 3").InProject(other.id())));
  ASSERT_OK(CreateTask(TaskBuilder("Task 4")));

  EXPECT_THAT(ListTitles(TasksInProject(project.id())),
              IsOkAndHolds(UnorderedElementsAre("Task 1", "Task 2")));
  EXPECT_THAT(ListTitles(TasksInProject(424242)), IsOkAndHolds(IsEmpty()));
}

TEST_P(TaskStoreTest, ListTasksWithoutFiltersReturnsAllInCreationOrder) {
  std::vector<int64_t> created;
  for (const char* title : {"c", "a", "b"}) {
    ASSERT_OK_AND_ASSIGN(v1::Task task, CreateTask(TaskBuilder(title)));
    created.push_back(task.id());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks, ListAllTasks());
  EXPECT_THAT(Ids(tasks), ElementsAreArray(created));
}

TEST_P(TaskStoreTest, ListTasksFiltersByStatus) {
  ASSERT_OK(CreateTask(TaskBuilder("Task 1").WithStatus(v1::Task::PENDING)));
  ASSERT_OK(CreateTask(TaskBuilder("Task 2").WithStatus(v1::Task::COMPLETED)));
  ASSERT_OK(CreateTask(TaskBuilder("Task 3")));
  ASSERT_OK(
      CreateTask(TaskBuilder("Task 4").WithStatus(v1::Task::IN_PROGRESS)));

  v1::ListTasksRequest pending;
  pending.set_status(v1::Task::PENDING);
  EXPECT_THAT(ListTitles(pending),
              IsOkAndHolds(ElementsAre("Task 1", "Task 3")));
  v1::ListTasksRequest completed;
  completed.set_status(v1::Task::COMPLETED);
  EXPECT_THAT(ListTitles(completed), IsOkAndHolds(ElementsAre("Task 2")));
}

TEST_P(TaskStoreTest, ListTasksFiltersByPriority) {
  ASSERT_OK(CreateTask(TaskBuilder("Low").WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("High 1").WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Default")));
  ASSERT_OK(CreateTask(TaskBuilder("High 2").WithPriority(v1::Task::HIGH)));

  v1::ListTasksRequest high;
  high.set_priority(v1::Task::HIGH);
  EXPECT_THAT(ListTitles(high), IsOkAndHolds(ElementsAre("High 1", "High 2")));
  v1::ListTasksRequest medium;
  medium.set_priority(v1::Task::MEDIUM);
  EXPECT_THAT(ListTitles(medium), IsOkAndHolds(ElementsAre("Default")));
}

TEST_P(TaskStoreTest, ListTasksCombinesProjectStatusAndPriorityFilters) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Work"));
  ASSERT_OK_AND_ASSIGN(v1::Project other, CreateProject("Other"));
  const int64_t id = project.id();
  ASSERT_OK(CreateTask(TaskBuilder("Match")
                           .InProject(id)
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong priority")
                           .InProject(id)
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::LOW)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong status")
                           .InProject(id)
                           .WithStatus(v1::Task::PENDING)
                           .WithPriority(v1::Task::HIGH)));
  ASSERT_OK(CreateTask(TaskBuilder("Wrong project")
                           .InProject(other.id())
                           .WithStatus(v1::Task::IN_PROGRESS)
                           .WithPriority(v1::Task::HIGH)));

  v1::ListTasksRequest request = TasksInProject(id);
  request.set_status(v1::Task::IN_PROGRESS);
  request.set_priority(v1::Task::HIGH);
  EXPECT_THAT(ListTitles(request), IsOkAndHolds(ElementsAre("Match")));
}

}  // namespace
}  // namespace tasks::storage
