// The TaskStore contract on every selected backend (see
// task_store_fixture.h). Access scopes: a task outside the caller's projects is
// out of reach in the statement itself, and answered exactly like a task that
// does not exist.

#include <atomic>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/task_store.h"
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
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::Property;
using ::testing::UnorderedElementsAre;
using Code = ::absl::StatusCode;

class ScopedTaskStoreTest : public TaskStoreTest {
 protected:
  void SetUp() override {
    TaskStoreTest::SetUp();
    ASSERT_OK_AND_ASSIGN(mine_, CreateProject("Mine"));
    ASSERT_OK_AND_ASSIGN(theirs_, CreateProject("Theirs"));
    ASSERT_OK_AND_ASSIGN(also_mine_, CreateProject("Also mine"));
    ASSERT_OK_AND_ASSIGN(my_task_,
                         CreateTask(TaskBuilder("mine").InProject(mine_.id())));
    ASSERT_OK_AND_ASSIGN(
        their_task_, CreateTask(TaskBuilder("theirs").InProject(theirs_.id())));
    ASSERT_OK_AND_ASSIGN(loose_task_, CreateTask(TaskBuilder("loose")));
    mine_only_ = AccessScope::Projects({also_mine_.id(), mine_.id()});
  }

  // What a call on a missing task answers, for comparison.
  static auto NotFoundLikeMissing(int64_t id) {
    return AllOf(
        StatusIs(Code::kNotFound, absl::StrCat("task ", id, " not found")),
        ReasonIs(reason::kTaskNotFound));
  }

  // The tasks the scope must not reach, and a missing id.
  std::vector<int64_t> OutOfReach() const {
    return {their_task_.id(), loose_task_.id(), 424242};
  }

  v1::Project mine_, theirs_, also_mine_;
  v1::Task my_task_, their_task_, loose_task_;
  AccessScope mine_only_;
};

TEST_P(ScopedTaskStoreTest, GetTaskReachesOnlyTasksOfTheScope) {
  EXPECT_THAT(store().GetTask(my_task_.id(), mine_only_),
              IsOkAndHolds(EqualsProto(my_task_)));
  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().GetTask(id, mine_only_), NotFoundLikeMissing(id));
  }
  EXPECT_THAT(
      store().GetTask(their_task_.id(), AccessScope::Projects({theirs_.id()})),
      IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(my_task_.id(), AccessScope::Projects({})),
              NotFoundLikeMissing(my_task_.id()));
}

TEST_P(ScopedTaskStoreTest, UpdateTaskChangesOnlyTasksOfTheScope) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task updated,
      store().UpdateTask(TaskBuilder("mine, changed").WithId(my_task_.id()),
                         MaskOf({"title"}), mine_only_));
  EXPECT_EQ(updated.title(), "mine, changed");

  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    v1::Task change = TaskBuilder("hijacked").WithId(id);
    EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
                NotFoundLikeMissing(id));
    // Neither a current etag, a stale one, nor an empty mask tells that the
    // task exists.
    for (const std::string& etag :
         {their_task_.etag(), loose_task_.etag(), std::string("\"999\"")}) {
      change.set_etag(etag);
      EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
                  NotFoundLikeMissing(id));
      EXPECT_THAT(store().UpdateTask(change, MaskOf({}), mine_only_),
                  NotFoundLikeMissing(id));
    }
  }
  EXPECT_THAT(store().GetTask(their_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(loose_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose_task_)));
}

TEST_P(ScopedTaskStoreTest, UpdateTaskMovesTasksOnlyWithinTheScope) {
  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("").WithId(my_task_.id()).InProject(also_mine_.id()),
          MaskOf({"project_id"}), mine_only_));
  EXPECT_EQ(moved.project_id(), also_mine_.id());

  EXPECT_THAT(store().UpdateTask(
                  TaskBuilder("").WithId(my_task_.id()).InProject(theirs_.id()),
                  MaskOf({"project_id"}), mine_only_),
              AllOf(StatusIs(Code::kPermissionDenied),
                    ReasonIs(reason::kPermissionDenied)));
  // Out of every project: not within a restricted scope either.
  EXPECT_THAT(store().UpdateTask(TaskBuilder("").WithId(my_task_.id()),
                                 MaskOf({"project_id"}), mine_only_),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(store().GetTask(my_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(moved)));
}

TEST_P(ScopedTaskStoreTest, DeleteTaskDeletesOnlyTasksOfTheScope) {
  for (int64_t id : OutOfReach()) {
    SCOPED_TRACE(id);
    EXPECT_THAT(store().DeleteTask(id, mine_only_), NotFoundLikeMissing(id));
  }
  EXPECT_THAT(store().GetTask(their_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(their_task_)));
  EXPECT_THAT(store().GetTask(loose_task_.id(), kEveryRow),
              IsOkAndHolds(EqualsProto(loose_task_)));
  ASSERT_OK(store().DeleteTask(my_task_.id(), mine_only_));
  EXPECT_THAT(store().GetTask(my_task_.id(), kEveryRow),
              StatusIs(Code::kNotFound));
}

// The old DeleteTask race, as the store now sees it: the caller was allowed
// the task in its project, then somebody with both projects moved it away
// before the delete. The delete is pinned to the caller's projects, so it
// finds nothing; so does an update carrying the etag read before the move.
TEST_P(ScopedTaskStoreTest, TaskMovedOutOfTheScopeIsNeitherDeletedNorUpdated) {
  ASSERT_OK_AND_ASSIGN(v1::Task seen,
                       store().GetTask(my_task_.id(), mine_only_));
  ASSERT_OK_AND_ASSIGN(
      v1::Task moved,
      store().UpdateTask(
          TaskBuilder("").WithId(seen.id()).InProject(theirs_.id()),
          MaskOf({"project_id"}), kEveryRow));

  const absl::Status deleted = store().DeleteTask(seen.id(), mine_only_);
  EXPECT_THAT(deleted, NotFoundLikeMissing(seen.id()));
  v1::Task change = TaskBuilder("changed").WithId(seen.id());
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
              NotFoundLikeMissing(seen.id()));
  change.set_etag(seen.etag());
  EXPECT_THAT(store().UpdateTask(change, MaskOf({"title"}), mine_only_),
              NotFoundLikeMissing(seen.id()));
  const absl::StatusOr<v1::Task> kept = store().GetTask(seen.id(), kEveryRow);
  EXPECT_THAT(kept, IsOkAndHolds(EqualsProto(moved)));
  std::cerr << "delete pinned to project " << mine_.id()
            << " of a task moved to " << theirs_.id() << ": " << deleted
            << "; the task " << (kept.ok() ? "still exists" : "is gone")
            << "\n";
}

// An update without an etag is never ABORTED, however the task moves in and
// out of the scope around it: when the update finds it out of reach, so
// does the answer, even if the task is back by the time it is written
// (PostgreSQL runs the update and the look-up after it in two snapshots).
TEST_P(ScopedTaskStoreTest, UpdateWithoutEtagIsNeverAbortedByMovesAroundIt) {
  std::atomic<bool> done{false};
  std::thread mover([&] {
    for (int i = 0; !done.load(); ++i) {
      const int64_t project = i % 2 == 0 ? theirs_.id() : mine_.id();
      ASSERT_OK(
          store()
              .UpdateTask(
                  TaskBuilder("").WithId(my_task_.id()).InProject(project),
                  MaskOf({"project_id"}), kEveryRow)
              .status());
    }
  });
  int updated = 0, not_found = 0;
  const absl::Time end = absl::Now() + absl::Seconds(2);
  for (int i = 0; absl::Now() < end; ++i) {
    v1::Task change = TaskBuilder("mine").WithId(my_task_.id());
    change.set_description(absl::StrCat("change ", i));
    const absl::Status status =
        store()
            .UpdateTask(change, MaskOf({"description"}), mine_only_)
            .status();
    if (status.ok()) {
      ++updated;
    } else {
      ++not_found;
      ASSERT_THAT(status, NotFoundLikeMissing(my_task_.id()));
    }
  }
  done = true;
  mover.join();
  std::cerr << updated << " updates, " << not_found
            << " found the task out of reach\n";
  // Both answers came: the moves did overlap the updates.
  EXPECT_GT(updated, 0);
  EXPECT_GT(not_found, 0);
}

TEST_P(TaskStoreTest, ScopedListsShowOnlyAllowedProjects) {
  std::vector<int64_t> projects;
  for (int p = 0; p < 3; ++p) {
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         CreateProject(absl::StrCat("p", p)));
    projects.push_back(project.id());
    for (int t = 0; t < 4; ++t) {
      ASSERT_OK(CreateTask(
          TaskBuilder(absl::StrCat("t", t)).InProject(project.id())));
    }
  }
  ASSERT_OK(CreateTask(TaskBuilder("no project")));
  AccessScope scope;
  scope.allowed_project_ids = {projects[2], projects[0], projects[2]};
  v1::ListTasksRequest request;
  request.set_page_size(3);
  std::vector<int64_t> seen_projects;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListTasksResponse page,
                         store().ListTasks(request, scope));
    for (const v1::Task& task : page.tasks()) {
      seen_projects.push_back(task.project_id());
    }
    if (!page.next_page_token().empty()) {
      // Another scope cannot continue this list.
      v1::ListTasksRequest other = request;
      other.set_page_token(page.next_page_token());
      EXPECT_THAT(store().ListTasks(other),
                  ReasonIs(reason::kInvalidPageToken));
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_THAT(
      seen_projects,
      UnorderedElementsAre(projects[0], projects[0], projects[0], projects[0],
                           projects[2], projects[2], projects[2], projects[2]));
  ASSERT_OK_AND_ASSIGN(v1::ListProjectsResponse listed,
                       store().ListProjects(10, "", scope));
  ASSERT_EQ(listed.projects_size(), 2);
  EXPECT_EQ(listed.projects(0).id(), projects[0]);
  AccessScope nothing;
  nothing.allowed_project_ids.emplace();
  EXPECT_THAT(store().ListTasks(v1::ListTasksRequest(), nothing),
              IsOkAndHolds(Property(&v1::ListTasksResponse::tasks_size, 0)));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ScopedTaskStoreTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace
}  // namespace tasks::storage
