// The TaskStore contract on every selected backend (see
// task_store_fixture.h). BatchCreateTasks: all or nothing, in request order.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/storage/task_store_fixture.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_backends.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::CreateRequest;
using ::tasks::testing::EqualsProto;
using ::tasks::testing::IsOkAndHolds;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::ReasonIs;
using ::tasks::testing::StatusIs;
using ::tasks::testing::StoreLocation;
using ::tasks::testing::TaskBuilder;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using Code = ::absl::StatusCode;

TEST_P(TaskStoreTest, BatchCreateTasksCreatesAllInRequestOrder) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Batch"));
  v1::BatchCreateTasksRequest request;
  for (const char* title : {"one", "two", "three"}) {
    *request.add_requests() =
        CreateRequest(TaskBuilder(title).InProject(project.id()));
  }

  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));

  std::vector<v1::Task> created(response.tasks().begin(),
                                response.tasks().end());
  EXPECT_THAT(Titles(created), ElementsAre("one", "two", "three"));
  for (const v1::Task& task : created) {
    EXPECT_EQ(task.status(), v1::Task::PENDING);
    EXPECT_THAT(store().GetTask(task.id(), kEveryRow),
                IsOkAndHolds(EqualsProto(task)));
  }
}

// Each case fails at request index 2 of a 4-task batch.
struct FailingBatchCase {
  std::string name;
  v1::Task failing;  // request 2; requests 0, 1, 3 are valid
  Code code;
  std::string reason;
};

TEST_P(TaskStoreTest, BatchCreateFailingMidwayStoresNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Batch"));
  ASSERT_OK_AND_ASSIGN(
      v1::Task existing,
      CreateTask(TaskBuilder("existing").InProject(project.id())));
  const int64_t id = project.id();
  const std::vector<FailingBatchCase> kCases = {
      {"duplicate of request 0", TaskBuilder("first").InProject(id),
       Code::kAlreadyExists, reason::kTitleTaken},
      {"duplicate of a stored task", TaskBuilder("existing").InProject(id),
       Code::kAlreadyExists, reason::kTitleTaken},
      {"missing project", TaskBuilder("orphan").InProject(987654),
       Code::kFailedPrecondition, reason::kProjectMissing},
      {"NUL byte", TaskBuilder(std::string("nul\0byte", 8)).InProject(id),
       Code::kInvalidArgument, reason::kInvalidArgument},
  };
  for (const FailingBatchCase& test_case : kCases) {
    SCOPED_TRACE(test_case.name);
    v1::BatchCreateTasksRequest request;
    *request.add_requests() = CreateRequest(TaskBuilder("first").InProject(id));
    *request.add_requests() =
        CreateRequest(TaskBuilder("second").InProject(id));
    *request.add_requests() = CreateRequest(test_case.failing);
    *request.add_requests() =
        CreateRequest(TaskBuilder("fourth").InProject(id));

    EXPECT_THAT(store().BatchCreateTasks(request),
                AllOf(StatusIs(test_case.code, HasSubstr("requests[2]")),
                      ReasonIs(test_case.reason)));

    EXPECT_THAT(ListAllTasks(),
                IsOkAndHolds(ElementsAre(EqualsProto(existing))));
  }
}

// Batches longer than one database round trip's worth of inserts (the
// PostgreSQL store sends them a few dozen at a time).
TEST_P(TaskStoreTest, LongBatchCreatesAllInOrderWithMixedDefaults) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Long"));
  v1::BatchCreateTasksRequest request;
  std::vector<std::string> titles;
  for (int i = 0; i < 150; ++i) {
    TaskBuilder task(absl::StrCat("task ", i));
    task.InProject(project.id());
    if (i % 3 == 0) task.WithStatus(v1::Task::COMPLETED);
    if (i % 5 == 0) task.WithPriority(v1::Task::HIGH);
    titles.push_back(absl::StrCat("task ", i));
    *request.add_requests() = CreateRequest(task);
  }
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));
  std::vector<v1::Task> created(response.tasks().begin(),
                                response.tasks().end());
  EXPECT_THAT(Titles(created), ElementsAreArray(titles));
  for (int i = 0; i < 150; ++i) {
    EXPECT_EQ(created[i].status(),
              i % 3 == 0 ? v1::Task::COMPLETED : v1::Task::PENDING);
    EXPECT_EQ(created[i].priority(),
              i % 5 == 0 ? v1::Task::HIGH : v1::Task::MEDIUM);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> listed, ListAllTasks());
  ASSERT_EQ(listed.size(), created.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_THAT(listed[i], EqualsProto(created[i]));
  }
}

TEST_P(TaskStoreTest, LongBatchFailingLateNamesTheRequestAndStoresNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Project project, CreateProject("Long"));
  v1::BatchCreateTasksRequest request;
  for (int i = 0; i < 150; ++i) {
    // Request 130 repeats the title of request 3.
    *request.add_requests() =
        CreateRequest(TaskBuilder(absl::StrCat("task ", i == 130 ? 3 : i))
                          .InProject(project.id()));
  }
  EXPECT_THAT(store().BatchCreateTasks(request),
              AllOf(StatusIs(Code::kAlreadyExists, HasSubstr("requests[130]")),
                    ReasonIs(reason::kTitleTaken)));
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(IsEmpty()));
  // The connection serves the next batch.
  request.mutable_requests(130)->mutable_task()->set_title("task 130");
  EXPECT_OK(store().BatchCreateTasks(request));
}

// The failing request comes before the first use of another kind of insert
// (status and priority set): that kind must work afterwards.
TEST_P(TaskStoreTest, BatchFailingBeforeANewKindOfInsertLeavesThatKindUsable) {
  v1::BatchCreateTasksRequest request;
  *request.add_requests() =
      CreateRequest(TaskBuilder("orphan").InProject(987654));
  *request.add_requests() = CreateRequest(TaskBuilder("set")
                                              .WithStatus(v1::Task::COMPLETED)
                                              .WithPriority(v1::Task::HIGH));
  EXPECT_THAT(
      store().BatchCreateTasks(request),
      AllOf(StatusIs(Code::kFailedPrecondition, HasSubstr("requests[0]")),
            ReasonIs(reason::kProjectMissing)));

  EXPECT_OK(store().CreateTask(TaskBuilder("single")
                                   .WithStatus(v1::Task::COMPLETED)
                                   .WithPriority(v1::Task::HIGH),
                               ""));
  request.mutable_requests(0)->mutable_task()->clear_project_id();
  EXPECT_OK(store().BatchCreateTasks(request));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(UnorderedElementsAre("single", "orphan", "set")));
}

TEST_P(TaskStoreTest, BatchRepeatingARequestIdReturnsTheFirstTaskForBoth) {
  ASSERT_OK_AND_ASSIGN(v1::Task earlier,
                       store().CreateTask(TaskBuilder("earlier"), "req-old"));
  v1::BatchCreateTasksRequest request;
  *request.add_requests() = CreateRequest(TaskBuilder("first"), "req-1");
  *request.add_requests() = CreateRequest(TaskBuilder("other"), "");
  *request.add_requests() = CreateRequest(TaskBuilder("first"), "req-1");
  *request.add_requests() = CreateRequest(TaskBuilder("earlier"), "req-old");
  // The same row, its defaults spelled out.
  *request.add_requests() = CreateRequest(
      TaskBuilder("first").WithStatus(v1::Task::PENDING), "req-1");
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse response,
                       store().BatchCreateTasks(request));
  ASSERT_EQ(response.tasks_size(), 5);
  EXPECT_EQ(response.tasks(0).title(), "first");
  EXPECT_EQ(response.tasks(1).title(), "other");
  EXPECT_THAT(response.tasks(2), EqualsProto(response.tasks(0)));
  EXPECT_THAT(response.tasks(3), EqualsProto(earlier));
  EXPECT_THAT(response.tasks(4), EqualsProto(response.tasks(0)));
  EXPECT_THAT(ListTitles(),
              IsOkAndHolds(UnorderedElementsAre("earlier", "first", "other")));
}

TEST_P(TaskStoreTest, FailedTransactionsLeaveTheStoreUsable) {
  for (StoreLocation location :
       {StoreLocation::kPrivate, StoreLocation::kShared}) {
    SCOPED_TRACE(location == StoreLocation::kPrivate ? "private" : "shared");
    SociTaskStoreOptions options;
    options.pool_size = 2;
    ASSERT_OK_AND_ASSIGN(TaskStorePtr store, OpenFreshStore(location, options));
    ASSERT_OK_AND_ASSIGN(v1::Project project,
                         store->CreateProject(ProjectNamed("p")));
    const int64_t id = project.id();
    ASSERT_OK(store->CreateTask(TaskBuilder("taken").InProject(id), ""));
    // More rounds than pooled connections: every connection fails a
    // transaction midway and must then serve the next call.
    for (int round = 0; round < 6; ++round) {
      v1::BatchCreateTasksRequest request;
      *request.add_requests() =
          CreateRequest(TaskBuilder(absl::StrCat("new ", round)).InProject(id));
      *request.add_requests() =
          CreateRequest(TaskBuilder("taken").InProject(id));
      EXPECT_THAT(store->BatchCreateTasks(request),
                  StatusIs(Code::kAlreadyExists));
      EXPECT_THAT(store->CreateTask(TaskBuilder("taken").InProject(id), ""),
                  StatusIs(Code::kAlreadyExists));

      EXPECT_OK(store->CreateTask(
          TaskBuilder(absl::StrCat("ok ", round)).InProject(id), ""));
      EXPECT_OK(store->CheckHealth());
    }
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Task> tasks,
                         ListAllTasks(*store, TasksInProject(id)));
    EXPECT_THAT(Titles(tasks), ElementsAre("taken", "ok 0", "ok 1", "ok 2",
                                           "ok 3", "ok 4", "ok 5"));
  }
}

TEST_P(TaskStoreTest, BatchIsAllOrNothingAndRequestIdReplays) {
  ASSERT_OK_AND_ASSIGN(v1::Task first,
                       store().CreateTask(TaskBuilder("once"), "req-1"));
  ASSERT_OK_AND_ASSIGN(v1::Task again,
                       store().CreateTask(TaskBuilder("once"), "req-1"));
  EXPECT_EQ(first.id(), again.id());
  EXPECT_THAT(store().CreateTask(TaskBuilder("other title"), "req-1"),
              ReasonIs(reason::kRequestIdReused));

  v1::BatchCreateTasksRequest batch;
  *batch.add_requests() = CreateRequest(TaskBuilder("b0"));
  *batch.add_requests() = CreateRequest(TaskBuilder("b1").InProject(77));
  const absl::Status failed = store().BatchCreateTasks(batch).status();
  EXPECT_THAT(failed,
              StatusIs(Code::kFailedPrecondition, HasSubstr("requests[1]")));
  EXPECT_EQ(ErrorField(failed), "requests[1].task.project_id");
  EXPECT_THAT(ListAllTasks(), IsOkAndHolds(SizeIs(1)));  // b0 rolled back
  batch.mutable_requests(1)->mutable_task()->clear_project_id();
  ASSERT_OK_AND_ASSIGN(v1::BatchCreateTasksResponse created,
                       store().BatchCreateTasks(batch));
  EXPECT_EQ(created.tasks_size(), 2);
}

}  // namespace
}  // namespace tasks::storage
