// tasks.v1.TaskService through a real gRPC channel (in-process, no port) to a
// TaskServer on in-memory SQLite: every row of the API's error table with its
// status code and ErrorInfo reason, defaults, field masks, pagination, batch
// creates, request ids, health and concurrent creates.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/grpc_status_matchers.h"

namespace tasks::service {
namespace {

using ::google::protobuf::Empty;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using Code = ::grpc::StatusCode;

// `piece` `times` times: "é" is one character in two bytes.
std::string Repeat(const std::string& piece, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += piece;
  return text;
}

v1::CreateTaskRequest NewTask(const std::string& title) {
  v1::CreateTaskRequest request;
  request.mutable_task()->set_title(title);
  return request;
}

v1::CreateTaskRequest NewTaskIn(int64_t project_id, const std::string& title) {
  v1::CreateTaskRequest request = NewTask(title);
  request.mutable_task()->set_project_id(project_id);
  return request;
}

class TaskServiceTest : public TaskServerTest<> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartInMemoryServer()); }

  grpc::Status CreateTask(const v1::CreateTaskRequest& request,
                          v1::Task* task = nullptr) {
    v1::Task response;
    grpc::Status status = Call(&Stub::CreateTask, request, &response);
    if (task != nullptr) *task = response;
    return status;
  }

  // Creates a project named `name`, failing the test when that fails.
  int64_t MakeProject(const std::string& name) {
    v1::CreateProjectRequest request;
    request.mutable_project()->set_name(name);
    v1::Project project;
    EXPECT_THAT(Call(&Stub::CreateProject, request, &project), GrpcOk());
    return project.id();
  }

  // Creates a task, failing the test when that fails.
  v1::Task MakeTask(const v1::CreateTaskRequest& request) {
    v1::Task task;
    EXPECT_THAT(CreateTask(request, &task), GrpcOk());
    return task;
  }

  grpc::Status GetTask(int64_t id, v1::Task* task = nullptr) {
    v1::GetTaskRequest request;
    request.set_id(id);
    v1::Task response;
    grpc::Status status = Call(&Stub::GetTask, request, &response);
    if (task != nullptr) *task = response;
    return status;
  }

  grpc::Status UpdateTask(const v1::Task& task,
                          std::vector<std::string> mask_paths,
                          v1::Task* updated = nullptr) {
    v1::UpdateTaskRequest request;
    *request.mutable_task() = task;
    if (!mask_paths.empty()) {
      for (const std::string& path : mask_paths) {
        request.mutable_update_mask()->add_paths(path);
      }
    }
    v1::Task response;
    grpc::Status status = Call(&Stub::UpdateTask, request, &response);
    if (updated != nullptr) *updated = response;
    return status;
  }

  // Every task the list request names, page by page; fails the test on error.
  std::vector<v1::Task> ListAllTasks(v1::ListTasksRequest request,
                                     int* pages = nullptr) {
    std::vector<v1::Task> tasks;
    int count = 0;
    do {
      v1::ListTasksResponse page;
      grpc::Status status = Call(&Stub::ListTasks, request, &page);
      EXPECT_THAT(status, GrpcOk());
      if (!status.ok()) break;
      ++count;
      tasks.insert(tasks.end(), page.tasks().begin(), page.tasks().end());
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty() && count < 10000);
    if (pages != nullptr) *pages = count;
    return tasks;
  }
};

// --- INVALID_ARGUMENT rows of the error table --------------------------------

TEST_F(TaskServiceTest, BlankOrMissingTitleIsInvalidArgument) {
  for (const char* title : {"", "   ", "\t\n"}) {
    EXPECT_THAT(CreateTask(NewTask(title)),
                GrpcInvalidField("task.title", reason::kInvalidArgument))
        << "title \"" << title << "\"";
  }
  EXPECT_THAT(CreateTask(v1::CreateTaskRequest()),
              GrpcInvalidField("task", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, BlankOrMissingProjectNameIsInvalidArgument) {
  v1::CreateProjectRequest request;
  EXPECT_THAT(Call(&Stub::CreateProject, request),
              GrpcInvalidField("project", reason::kInvalidArgument));
  request.mutable_project()->set_name("  ");
  EXPECT_THAT(Call(&Stub::CreateProject, request),
              GrpcInvalidField("project.name", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, TitleOf200CharactersIsAcceptedAnd201IsNot) {
  const std::string title_200 = Repeat("\xC3\xA9", 200);  // 400 bytes
  v1::Task task = MakeTask(NewTask(title_200));
  EXPECT_EQ(task.title(), title_200);
  EXPECT_THAT(CreateTask(NewTask(Repeat("\xC3\xA9", 201))),
              GrpcInvalidField("task.title", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, ProjectNameOf200CharactersIsAcceptedAnd201IsNot) {
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name(Repeat("\xF0\x9F\x93\x8C", 200));
  EXPECT_THAT(Call(&Stub::CreateProject, request), GrpcOk());
  request.mutable_project()->set_name(Repeat("n", 201));
  EXPECT_THAT(Call(&Stub::CreateProject, request),
              GrpcInvalidField("project.name", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, DescriptionOf10000CharactersIsAcceptedAnd10001IsNot) {
  v1::CreateTaskRequest request = NewTask("long");
  request.mutable_task()->set_description(Repeat("d", 10000));
  EXPECT_THAT(CreateTask(request), GrpcOk());
  request = NewTask("longer");
  request.mutable_task()->set_description(Repeat("d", 10001));
  EXPECT_THAT(CreateTask(request),
              GrpcInvalidField("task.description", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, UnknownEnumValueIsInvalidArgument) {
  v1::CreateTaskRequest request = NewTask("t");
  request.mutable_task()->set_status(static_cast<v1::Task::Status>(7));
  EXPECT_THAT(CreateTask(request),
              GrpcInvalidField("task.status", reason::kInvalidArgument));
  v1::ListTasksRequest list;
  list.set_priority(static_cast<v1::Task::Priority>(99));
  EXPECT_THAT(Call(&Stub::ListTasks, list),
              GrpcInvalidField("priority", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, UnknownMaskPathIsInvalidFieldMask) {
  v1::Task task = MakeTask(NewTask("t"));
  task.set_title("new");
  EXPECT_THAT(UpdateTask(task, {"titel"}),
              GrpcInvalidField("update_mask", reason::kInvalidFieldMask));
  v1::UpdateProjectRequest request;
  request.mutable_project()->set_id(MakeProject("p"));
  request.mutable_project()->set_name("q");
  request.mutable_update_mask()->add_paths("owner");
  EXPECT_THAT(Call(&Stub::UpdateProject, request),
              GrpcInvalidField("update_mask", reason::kInvalidFieldMask));
}

TEST_F(TaskServiceTest, OutputOnlyMaskPathIsInvalidFieldMask) {
  v1::Task task = MakeTask(NewTask("t"));
  for (const char* path : {"id", "create_time", "update_time", "etag"}) {
    EXPECT_THAT(UpdateTask(task, {path}),
                GrpcInvalidField("update_mask", reason::kInvalidFieldMask))
        << path;
  }
}

TEST_F(TaskServiceTest, NegativePageSizeIsInvalidArgument) {
  v1::ListTasksRequest tasks;
  tasks.set_page_size(-1);
  EXPECT_THAT(Call(&Stub::ListTasks, tasks),
              GrpcInvalidField("page_size", reason::kInvalidArgument));
  v1::ListProjectsRequest projects;
  projects.set_page_size(-5);
  EXPECT_THAT(Call(&Stub::ListProjects, projects),
              GrpcInvalidField("page_size", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, TamperedPageTokenIsInvalidPageToken) {
  for (int i = 0; i < 3; ++i) MakeTask(NewTask(absl::StrCat("t", i)));
  v1::ListTasksRequest request;
  request.set_page_size(1);
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, request, &page), GrpcOk());
  ASSERT_FALSE(page.next_page_token().empty());

  std::string tampered = page.next_page_token();
  tampered[tampered.size() / 2] ^= 1;
  request.set_page_token(tampered);
  EXPECT_THAT(Call(&Stub::ListTasks, request),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));
  request.set_page_token("not a token");
  EXPECT_THAT(Call(&Stub::ListTasks, request),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));
  v1::ListProjectsRequest projects;
  projects.set_page_token("not a token");
  EXPECT_THAT(Call(&Stub::ListProjects, projects),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));
}

TEST_F(TaskServiceTest, PageTokenReusedWithOtherFiltersIsInvalidPageToken) {
  for (int i = 0; i < 3; ++i) MakeTask(NewTask(absl::StrCat("t", i)));
  v1::ListTasksRequest request;
  request.set_page_size(1);
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, request, &page), GrpcOk());
  request.set_page_token(page.next_page_token());
  request.set_status(v1::Task::COMPLETED);
  EXPECT_THAT(Call(&Stub::ListTasks, request),
              GrpcInvalidField("page_token", reason::kInvalidPageToken));
}

TEST_F(TaskServiceTest, UnknownOrderByIsInvalidArgument) {
  v1::ListTasksRequest request;
  request.set_order_by("id; DROP TABLE task");
  EXPECT_THAT(Call(&Stub::ListTasks, request),
              GrpcInvalidField("order_by", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, ZeroAndNegativeIdsAreInvalidArgument) {
  for (int64_t id : {int64_t{0}, int64_t{-1}}) {
    v1::GetTaskRequest get_task;
    get_task.set_id(id);
    EXPECT_THAT(Call(&Stub::GetTask, get_task),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::DeleteTaskRequest delete_task;
    delete_task.set_id(id);
    EXPECT_THAT(Call(&Stub::DeleteTask, delete_task),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::GetProjectRequest get_project;
    get_project.set_id(id);
    EXPECT_THAT(Call(&Stub::GetProject, get_project),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::DeleteProjectRequest delete_project;
    delete_project.set_id(id);
    EXPECT_THAT(Call(&Stub::DeleteProject, delete_project),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::Task task;
    task.set_id(id);
    task.set_title("t");
    EXPECT_THAT(UpdateTask(task, {}),
                GrpcInvalidField("task.id", reason::kInvalidArgument));
    v1::UpdateProjectRequest update_project;
    update_project.mutable_project()->set_id(id);
    update_project.mutable_project()->set_name("p");
    EXPECT_THAT(Call(&Stub::UpdateProject, update_project),
                GrpcInvalidField("project.id", reason::kInvalidArgument));
    EXPECT_THAT(CreateTask(NewTaskIn(id, "t")),
                GrpcInvalidField("task.project_id", reason::kInvalidArgument));
  }
}

// --- The other rows ------------------------------------------------------

TEST_F(TaskServiceTest, DuplicateTitleInProjectIsAlreadyExists) {
  const int64_t project = MakeProject("p");
  MakeTask(NewTaskIn(project, "same"));
  EXPECT_THAT(CreateTask(NewTaskIn(project, "same")),
              GrpcErrorIs(Code::ALREADY_EXISTS, reason::kTitleTaken));
  // Another project may use the title.
  EXPECT_THAT(CreateTask(NewTaskIn(MakeProject("q"), "same")), GrpcOk());
}

TEST_F(TaskServiceTest, MissingProjectIsFailedPreconditionNamingIt) {
  grpc::Status status = CreateTask(NewTaskIn(424242, "orphan"));
  EXPECT_THAT(status,
              GrpcErrorIs(Code::FAILED_PRECONDITION, reason::kProjectMissing));
  EXPECT_THAT(status.error_message(), HasSubstr("424242"));
}

TEST_F(TaskServiceTest, UnknownTaskIdIsNotFoundOnGetUpdateDelete) {
  EXPECT_THAT(GetTask(777),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  v1::Task task;
  task.set_id(777);
  task.set_title("t");
  EXPECT_THAT(UpdateTask(task, {}),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  v1::DeleteTaskRequest request;
  request.set_id(777);
  EXPECT_THAT(Call(&Stub::DeleteTask, request),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
}

TEST_F(TaskServiceTest, UnknownProjectIdIsNotFoundOnGetUpdateDelete) {
  v1::GetProjectRequest get;
  get.set_id(777);
  EXPECT_THAT(Call(&Stub::GetProject, get),
              GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound));
  v1::UpdateProjectRequest update;
  update.mutable_project()->set_id(777);
  update.mutable_project()->set_name("p");
  EXPECT_THAT(Call(&Stub::UpdateProject, update),
              GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound));
  v1::DeleteProjectRequest remove;
  remove.set_id(777);
  EXPECT_THAT(Call(&Stub::DeleteProject, remove),
              GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound));
}

TEST_F(TaskServiceTest, EtagMismatchIsAbortedAndMatchingEtagUpdates) {
  v1::Task task = MakeTask(NewTask("t"));
  ASSERT_FALSE(task.etag().empty());
  v1::Task change;
  change.set_id(task.id());
  change.set_title("first");
  change.set_etag(task.etag());
  v1::Task updated;
  ASSERT_THAT(UpdateTask(change, {"title"}, &updated), GrpcOk());
  EXPECT_NE(updated.etag(), task.etag());

  change.set_title("second");  // Still carries the old etag.
  EXPECT_THAT(UpdateTask(change, {"title"}),
              GrpcErrorIs(Code::ABORTED, reason::kEtagMismatch));
  v1::Task stored;
  ASSERT_THAT(GetTask(task.id(), &stored), GrpcOk());
  EXPECT_EQ(stored.title(), "first");
}

TEST_F(TaskServiceTest, DeleteProjectWithTasksNeedsForce) {
  const int64_t project = MakeProject("p");
  v1::Task task = MakeTask(NewTaskIn(project, "t"));
  v1::DeleteProjectRequest request;
  request.set_id(project);
  EXPECT_THAT(Call(&Stub::DeleteProject, request),
              GrpcErrorIs(Code::FAILED_PRECONDITION, reason::kProjectHasTasks));
  EXPECT_THAT(GetTask(task.id()), GrpcOk());

  request.set_force(true);
  EXPECT_THAT(Call(&Stub::DeleteProject, request), GrpcOk());
  EXPECT_THAT(GetTask(task.id()),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  v1::GetProjectRequest get;
  get.set_id(project);
  EXPECT_THAT(Call(&Stub::GetProject, get),
              GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound));
}

TEST_F(TaskServiceTest, DeleteEmptyProjectNeedsNoForce) {
  v1::DeleteProjectRequest request;
  request.set_id(MakeProject("empty"));
  EXPECT_THAT(Call(&Stub::DeleteProject, request), GrpcOk());
}

// --- Defaults and output-only fields --------------------------------------

TEST_F(TaskServiceTest, CreateTaskAppliesDefaultsAndIgnoresOutputOnlyFields) {
  v1::CreateTaskRequest request = NewTask("defaults");
  request.mutable_task()->set_id(999);
  request.mutable_task()->set_etag("forged");
  request.mutable_task()->mutable_create_time()->set_seconds(1);
  v1::Task task = MakeTask(request);
  EXPECT_GT(task.id(), 0);
  EXPECT_NE(task.id(), 999);
  EXPECT_NE(task.etag(), "forged");
  EXPECT_FALSE(task.etag().empty());
  EXPECT_EQ(task.status(), v1::Task::PENDING);
  EXPECT_EQ(task.priority(), v1::Task::MEDIUM);
  EXPECT_FALSE(task.has_project_id());
  EXPECT_GT(task.create_time().seconds(), 1);

  v1::Task stored;
  ASSERT_THAT(GetTask(task.id(), &stored), GrpcOk());
  EXPECT_EQ(stored.SerializeAsString(), task.SerializeAsString());
}

// --- due_time ----------------------------------------------------------------

TEST_F(TaskServiceTest, DueTimeIsSetOrderedUpdatedAndCleared) {
  v1::CreateTaskRequest later = NewTask("later");
  later.mutable_task()->mutable_due_time()->set_seconds(2000000000);
  v1::CreateTaskRequest sooner = NewTask("sooner");
  sooner.mutable_task()->mutable_due_time()->set_seconds(1900000000);
  const v1::Task undated = MakeTask(NewTask("undated"));
  const v1::Task late = MakeTask(later);
  MakeTask(sooner);
  EXPECT_EQ(late.due_time().seconds(), 2000000000);
  EXPECT_FALSE(undated.has_due_time());

  v1::ListTasksRequest list;
  list.set_order_by("due_time");
  list.set_page_size(1);
  std::vector<std::string> titles;
  for (const v1::Task& task : ListAllTasks(list))
    titles.push_back(task.title());
  EXPECT_THAT(titles, ::testing::ElementsAre("sooner", "later", "undated"));
  list.set_order_by("due_time desc");
  titles.clear();
  for (const v1::Task& task : ListAllTasks(list))
    titles.push_back(task.title());
  EXPECT_THAT(titles, ::testing::ElementsAre("later", "sooner", "undated"));

  v1::Task change;
  change.set_id(late.id());
  v1::Task updated;
  ASSERT_THAT(UpdateTask(change, {"due_time"}, &updated), GrpcOk());
  EXPECT_FALSE(updated.has_due_time());
  change.mutable_due_time()->set_seconds(1);
  ASSERT_THAT(UpdateTask(change, {}, &updated), GrpcOk());
  EXPECT_EQ(updated.due_time().seconds(), 1);
}

TEST_F(TaskServiceTest, DueTimeOutsideTheTimestampRangeIsInvalidArgument) {
  v1::CreateTaskRequest request = NewTask("bad due");
  request.mutable_task()->mutable_due_time()->set_nanos(-1);
  EXPECT_THAT(CreateTask(request),
              GrpcInvalidField("task.due_time", reason::kInvalidArgument));
  v1::Task task = MakeTask(NewTask("good"));
  task.mutable_due_time()->set_seconds(253402300800);  // year 10000
  EXPECT_THAT(UpdateTask(task, {"due_time"}),
              GrpcInvalidField("task.due_time", reason::kInvalidArgument));
  v1::Task stored;
  ASSERT_THAT(GetTask(task.id(), &stored), GrpcOk());
  EXPECT_FALSE(stored.has_due_time());
}

// --- Field-mask updates ----------------------------------------------------

TEST_F(TaskServiceTest, UpdateWithoutMaskChangesOnlyPopulatedFields) {
  v1::CreateTaskRequest request = NewTask("t");
  request.mutable_task()->set_description("keep me");
  v1::Task task = MakeTask(request);
  v1::Task change;
  change.set_id(task.id());
  change.set_status(v1::Task::IN_PROGRESS);
  v1::Task updated;
  ASSERT_THAT(UpdateTask(change, {}, &updated), GrpcOk());
  EXPECT_EQ(updated.status(), v1::Task::IN_PROGRESS);
  EXPECT_EQ(updated.title(), "t");
  EXPECT_EQ(updated.description(), "keep me");
  EXPECT_EQ(updated.priority(), v1::Task::MEDIUM);
}

TEST_F(TaskServiceTest, UpdateWithMaskSetsOnlyMaskedFieldsEvenToEmpty) {
  v1::CreateTaskRequest request = NewTask("t");
  request.mutable_task()->set_description("to clear");
  v1::Task task = MakeTask(request);
  v1::Task change;
  change.set_id(task.id());
  change.set_title("ignored, not in the mask");
  v1::Task updated;
  ASSERT_THAT(UpdateTask(change, {"description"}, &updated), GrpcOk());
  EXPECT_EQ(updated.description(), "");
  EXPECT_EQ(updated.title(), "t");
}

TEST_F(TaskServiceTest, UpdateWithStarReplacesEveryMutableField) {
  const int64_t project = MakeProject("p");
  v1::CreateTaskRequest request = NewTaskIn(project, "t");
  request.mutable_task()->set_description("old");
  request.mutable_task()->set_priority(v1::Task::HIGH);
  v1::Task task = MakeTask(request);

  v1::Task replacement;
  replacement.set_id(task.id());
  replacement.set_title("replaced");
  replacement.set_status(v1::Task::COMPLETED);
  replacement.set_priority(v1::Task::LOW);
  v1::Task updated;
  ASSERT_THAT(UpdateTask(replacement, {"*"}, &updated), GrpcOk());
  EXPECT_EQ(updated.title(), "replaced");
  EXPECT_EQ(updated.description(), "");
  EXPECT_FALSE(updated.has_project_id());
  EXPECT_EQ(updated.status(), v1::Task::COMPLETED);
  EXPECT_EQ(updated.priority(), v1::Task::LOW);
}

TEST_F(TaskServiceTest, UpdateProjectByMask) {
  v1::CreateProjectRequest create;
  create.mutable_project()->set_name("before");
  create.mutable_project()->set_description("desc");
  v1::Project project;
  ASSERT_THAT(Call(&Stub::CreateProject, create, &project), GrpcOk());

  v1::UpdateProjectRequest request;
  request.mutable_project()->set_id(project.id());
  request.mutable_project()->set_name("after");
  v1::Project updated;
  ASSERT_THAT(Call(&Stub::UpdateProject, request, &updated), GrpcOk());
  EXPECT_EQ(updated.name(), "after");
  EXPECT_EQ(updated.description(), "desc");

  request.mutable_update_mask()->add_paths("description");
  ASSERT_THAT(Call(&Stub::UpdateProject, request, &updated), GrpcOk());
  EXPECT_EQ(updated.description(), "");
}

// --- Pagination ----------------------------------------------------------

TEST_F(TaskServiceTest, ListTasksPagesThroughEveryTaskOnceInOrder) {
  std::vector<int64_t> created;
  for (int i = 0; i < 23; ++i) {
    created.push_back(MakeTask(NewTask(absl::StrCat("task ", i))).id());
  }
  v1::ListTasksRequest request;
  request.set_page_size(5);
  int pages = 0;
  std::vector<v1::Task> listed = ListAllTasks(request, &pages);
  EXPECT_EQ(pages, 5);
  std::vector<int64_t> ids;
  for (const v1::Task& task : listed) ids.push_back(task.id());
  EXPECT_EQ(ids, created);
}

TEST_F(TaskServiceTest, ListProjectsPagesThroughEveryProjectOnce) {
  std::vector<int64_t> created;
  for (int i = 0; i < 7; ++i) {
    created.push_back(MakeProject(absl::StrCat("project ", i)));
  }
  v1::ListProjectsRequest request;
  request.set_page_size(3);
  std::vector<int64_t> ids;
  int pages = 0;
  do {
    v1::ListProjectsResponse page;
    ASSERT_THAT(Call(&Stub::ListProjects, request, &page), GrpcOk());
    for (const v1::Project& project : page.projects()) {
      ids.push_back(project.id());
    }
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 100);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids, created);
}

TEST_F(TaskServiceTest, PageSizeZeroMeansFiftyAndLargeIsCappedAtThousand) {
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 1000; ++i) {
    *batch.add_requests() = NewTask(absl::StrCat("bulk ", i));
  }
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch), GrpcOk());
  MakeTask(NewTask("one more"));

  v1::ListTasksRequest request;
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, request, &page), GrpcOk());
  EXPECT_THAT(page.tasks(), SizeIs(50));
  request.set_page_size(5000);
  ASSERT_THAT(Call(&Stub::ListTasks, request, &page), GrpcOk());
  EXPECT_THAT(page.tasks(), SizeIs(1000));
  EXPECT_FALSE(page.next_page_token().empty());
}

TEST_F(TaskServiceTest, ListTasksFiltersByProjectStatusPriorityAndMetadata) {
  const int64_t project = MakeProject("p");
  v1::CreateTaskRequest match = NewTaskIn(project, "match");
  match.mutable_task()->set_status(v1::Task::IN_PROGRESS);
  match.mutable_task()->set_priority(v1::Task::HIGH);
  (*match.mutable_task()->mutable_metadata()->mutable_fields())["team"]
      .set_string_value("core");
  const int64_t match_id = MakeTask(match).id();
  MakeTask(NewTaskIn(project, "other status"));
  MakeTask(NewTask("no project"));

  v1::ListTasksRequest request;
  request.set_project_id(project);
  EXPECT_THAT(ListAllTasks(request), SizeIs(2));
  request.set_status(v1::Task::IN_PROGRESS);
  request.set_priority(v1::Task::HIGH);
  request.set_metadata_key("team");
  request.mutable_metadata_value()->set_string_value("core");
  std::vector<v1::Task> listed = ListAllTasks(request);
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].id(), match_id);
}

TEST_F(TaskServiceTest, ListTasksFilterSelectsTasksAndPagesWithItsToken) {
  const int64_t project = MakeProject("p");
  for (int i = 0; i < 5; ++i) {
    v1::CreateTaskRequest request = NewTaskIn(project, absl::StrCat("t", i));
    request.mutable_task()->set_priority(i % 2 ? v1::Task::HIGH
                                               : v1::Task::LOW);
    (*request.mutable_task()->mutable_metadata()->mutable_fields())["n"]
        .set_number_value(i);
    MakeTask(request);
  }
  v1::ListTasksRequest request;
  request.set_filter("priority >= HIGH OR metadata.n = 4");
  request.set_page_size(1);
  std::vector<std::string> titles;
  for (const v1::Task& task : ListAllTasks(request)) {
    titles.push_back(task.title());
  }
  EXPECT_THAT(titles, ElementsAre("t1", "t3", "t4"));
}

TEST_F(TaskServiceTest, MalformedFilterIsInvalidArgumentWithItsPosition) {
  v1::ListTasksRequest request;
  request.set_filter("priority >= URGENT");
  grpc::Status status = Call(&Stub::ListTasks, request);
  EXPECT_THAT(status, GrpcInvalidField("filter", reason::kInvalidArgument));
  EXPECT_THAT(status.error_message(), HasSubstr("at position 13"));
}

// --- Batch creates and request ids ------------------------------------------

TEST_F(TaskServiceTest, BatchCreateTasksReturnsTasksInRequestOrder) {
  v1::BatchCreateTasksRequest batch;
  for (const char* title : {"a", "b", "c"})
    *batch.add_requests() = NewTask(title);
  v1::BatchCreateTasksResponse response;
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch, &response), GrpcOk());
  ASSERT_THAT(response.tasks(), SizeIs(3));
  EXPECT_EQ(response.tasks(0).title(), "a");
  EXPECT_EQ(response.tasks(2).title(), "c");
}

TEST_F(TaskServiceTest, BatchCreateTasksIsAllOrNothing) {
  const int64_t project = MakeProject("p");
  v1::BatchCreateTasksRequest batch;
  *batch.add_requests() = NewTaskIn(project, "first");
  *batch.add_requests() = NewTaskIn(project, "second");
  *batch.add_requests() = NewTaskIn(project, "first");  // Duplicate.
  EXPECT_THAT(Call(&Stub::BatchCreateTasks, batch),
              GrpcErrorIs(Code::ALREADY_EXISTS, reason::kTitleTaken));
  v1::ListTasksRequest list;
  list.set_project_id(project);
  EXPECT_THAT(ListAllTasks(list), SizeIs(0));

  batch.mutable_requests(2)->mutable_task()->set_title(" ");
  EXPECT_THAT(
      Call(&Stub::BatchCreateTasks, batch),
      GrpcInvalidField("requests[2].task.title", reason::kInvalidArgument));
  EXPECT_THAT(ListAllTasks(list), SizeIs(0));
}

TEST_F(TaskServiceTest, BatchOfMoreThanThousandIsInvalidArgument) {
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 1001; ++i) {
    *batch.add_requests() = NewTask(absl::StrCat("t", i));
  }
  EXPECT_THAT(Call(&Stub::BatchCreateTasks, batch),
              GrpcInvalidField("requests", reason::kInvalidArgument));
  EXPECT_THAT(Call(&Stub::BatchCreateTasks, v1::BatchCreateTasksRequest()),
              GrpcInvalidField("requests", reason::kInvalidArgument));
}

TEST_F(TaskServiceTest, RetryWithSameRequestIdReturnsTheFirstTask) {
  v1::CreateTaskRequest request = NewTask("once");
  request.set_request_id("7d0c3a52-retry");
  v1::Task first = MakeTask(request);
  v1::Task second = MakeTask(request);
  EXPECT_EQ(second.id(), first.id());
  EXPECT_THAT(ListAllTasks(v1::ListTasksRequest()), SizeIs(1));
}

TEST_F(TaskServiceTest, SameRequestIdWithAnotherTaskIsAlreadyExists) {
  v1::CreateTaskRequest request = NewTask("once");
  request.set_request_id("7d0c3a52-reused");
  const v1::Task first = MakeTask(request);
  request.mutable_task()->set_title("twice");
  v1::Task other;
  const grpc::Status status = Call(&Stub::CreateTask, request, &other);
  std::cout << "FIGURE request_id sent again with another title: "
            << ::tasks::testing::DescribeGrpcStatus(status) << ", task "
            << other.id() << " (the first: " << first.id() << ")\n";
  EXPECT_THAT(status,
              GrpcErrorIs(Code::ALREADY_EXISTS, reason::kRequestIdReused));
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  v1::BatchCreateTasksRequest batch;
  *batch.add_requests() = NewTask("fresh");
  *batch.add_requests() = request;
  EXPECT_THAT(Call(&Stub::BatchCreateTasks, batch),
              GrpcErrorIs(Code::ALREADY_EXISTS, reason::kRequestIdReused));
  EXPECT_THAT(ListAllTasks(v1::ListTasksRequest()), SizeIs(1));
}

// --- Health and concurrency -------------------------------------------------

TEST_F(TaskServiceTest, HealthIsServingOverallAndForTheService) {
  auto health = grpc::health::v1::Health::NewStub(server_->InProcessChannel());
  for (const char* service : {"", "tasks.v1.TaskService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_THAT(health->Check(&context, request, &response), GrpcOk());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << "service \"" << service << "\"";
  }
}

TEST_F(TaskServiceTest, ConcurrentCreatesOfOneTitleHaveExactlyOneWinner) {
  const int64_t project = MakeProject("race");
  constexpr int kThreads = 16;
  std::atomic<int> ok{0}, already_exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      grpc::Status status = CreateTask(NewTaskIn(project, "contested"));
      if (status.ok()) {
        ++ok;
      } else if (status.error_code() == Code::ALREADY_EXISTS) {
        ++already_exists;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(already_exists.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace tasks::service
