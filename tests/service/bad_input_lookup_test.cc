// Numbers and references that name nothing valid: page sizes at their edges,
// forged, truncated and misapplied page tokens, extreme ids, unknown enum
// numbers and field masks with unknown, output-only and duplicate paths.
// Each refusal has its exact status and leaves the database as it was.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "storage/soci_task_store.h"
#include "tests/service/bad_input_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/proto_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::service {
namespace {

using ::tasks::testing::EqualsProto;
using ::tasks::testing::GrpcErrorIs;
using ::tasks::testing::GrpcInvalidField;
using ::tasks::testing::GrpcOk;
using ::tasks::testing::TaskBuilder;
using ::testing::IsEmpty;
using ::testing::Not;
using Code = ::grpc::StatusCode;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// Ids no row can have and the service refuses to look up.
const int64_t kInvalidIds[] = {0, -1, kInt64Min};

const char kTaskMutablePaths[][12] = {"project_id", "title",    "description",
                                      "status",     "priority", "metadata"};

// --- page_size -----------------------------------------------------------

TEST_P(BadInputTest, NegativePageSizeIsInvalidArgument) {
  for (int32_t page_size : {-1, kInt32Min}) {
    v1::ListTasksRequest tasks;
    tasks.set_page_size(page_size);
    EXPECT_THAT(Call(&Stub::ListTasks, tasks),
                GrpcInvalidField("page_size", reason::kInvalidArgument))
        << page_size;
    v1::ListProjectsRequest projects;
    projects.set_page_size(page_size);
    EXPECT_THAT(Call(&Stub::ListProjects, projects),
                GrpcInvalidField("page_size", reason::kInvalidArgument))
        << page_size;
  }
}

TEST_P(BadInputTest, PageSizeZeroMeansFiftyAndInt32MaxMeansAThousand) {
  // With the seeds: 1002 tasks and 1001 projects, one more than a full page.
  v1::BatchCreateTasksRequest batch;
  for (int i = 0; i < 1000; ++i) {
    batch.add_requests()->mutable_task()->set_title(absl::StrCat("bulk ", i));
  }
  ASSERT_THAT(Call(&Stub::BatchCreateTasks, batch), GrpcOk());
  for (int i = 0; i < 1000; ++i) MakeProject(absl::StrCat("project ", i));

  for (const auto& [page_size, expected] : std::vector<std::pair<int32_t, int>>{
           {0, 50}, {kInt32Max, 1000}, {1001, 1000}, {1, 1}}) {
    SCOPED_TRACE(page_size);
    v1::ListTasksRequest tasks;
    tasks.set_page_size(page_size);
    v1::ListTasksResponse task_page;
    ASSERT_THAT(Call(&Stub::ListTasks, tasks, &task_page), GrpcOk());
    EXPECT_EQ(task_page.tasks_size(), expected);
    EXPECT_THAT(task_page.next_page_token(), Not(IsEmpty()));

    v1::ListProjectsRequest projects;
    projects.set_page_size(page_size);
    v1::ListProjectsResponse project_page;
    ASSERT_THAT(Call(&Stub::ListProjects, projects, &project_page), GrpcOk());
    EXPECT_EQ(project_page.projects_size(), expected);
    EXPECT_THAT(project_page.next_page_token(), Not(IsEmpty()));
  }
}

// --- Page tokens -----------------------------------------------------------

TEST_P(BadInputTest, ForgedPageTokensAreInvalidPageToken) {
  for (int i = 0; i < 3; ++i) MakeTask(TaskBuilder(absl::StrCat("t", i)));
  v1::ListTasksRequest first;
  first.set_page_size(1);
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, first, &page), GrpcOk());
  const std::string real = page.next_page_token();
  ASSERT_FALSE(real.empty());
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(real, &bytes));

  std::vector<std::pair<std::string, std::string>> forged = {
      {"empty-looking", "="},
      {"not base64", "!!!!"},
      {"zeros", absl::WebSafeBase64Escape(std::string(bytes.size(), '\0'))},
      {"random", absl::WebSafeBase64Escape(Repeat("\x5A\xA5\x3C", 40))},
      {"huge", absl::WebSafeBase64Escape(std::string(100000, 'x'))},
      {"padded", real + "=="},
      {"extended", real + "AAAA"},
  };
  // Each byte of the real token changed in turn: cursor, scope digest, MAC.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] ^= 0x01;
    forged.emplace_back(absl::StrCat("bit flipped in byte ", i),
                        absl::WebSafeBase64Escape(changed));
  }
  // The cursor moved far ahead (id = INT64_MAX) with the MAC left as it was.
  std::string ahead = bytes;
  for (int i = 0; i < 8; ++i) ahead[17 + i] = i == 7 ? '\x7F' : '\xFF';
  forged.emplace_back("cursor moved", absl::WebSafeBase64Escape(ahead));

  for (const auto& [what, token] : forged) {
    v1::ListTasksRequest request = first;
    request.set_page_token(token);
    ExpectRefused([&] { return Call(&Stub::ListTasks, request); },
                  GrpcInvalidField("page_token", reason::kInvalidPageToken),
                  what);
  }
}

TEST_P(BadInputTest, TruncatedPageTokensAreInvalidPageToken) {
  for (int i = 0; i < 3; ++i) MakeTask(TaskBuilder(absl::StrCat("t", i)));
  for (int i = 0; i < 2; ++i) MakeProject(absl::StrCat("p", i));
  v1::ListTasksRequest tasks;
  tasks.set_page_size(1);
  v1::ListTasksResponse task_page;
  ASSERT_THAT(Call(&Stub::ListTasks, tasks, &task_page), GrpcOk());
  v1::ListProjectsRequest projects;
  projects.set_page_size(1);
  v1::ListProjectsResponse project_page;
  ASSERT_THAT(Call(&Stub::ListProjects, projects, &project_page), GrpcOk());

  const std::string task_token = task_page.next_page_token();
  for (size_t length = 1; length < task_token.size(); ++length) {
    tasks.set_page_token(task_token.substr(0, length));
    EXPECT_THAT(Call(&Stub::ListTasks, tasks),
                GrpcInvalidField("page_token", reason::kInvalidPageToken))
        << "task token cut to " << length;
    // Cut from the front too.
    tasks.set_page_token(task_token.substr(length));
    EXPECT_THAT(Call(&Stub::ListTasks, tasks),
                GrpcInvalidField("page_token", reason::kInvalidPageToken))
        << "task token without its first " << length;
  }
  const std::string project_token = project_page.next_page_token();
  for (size_t length = 1; length < project_token.size(); ++length) {
    projects.set_page_token(project_token.substr(0, length));
    EXPECT_THAT(Call(&Stub::ListProjects, projects),
                GrpcInvalidField("page_token", reason::kInvalidPageToken))
        << "project token cut to " << length;
  }
}

TEST_P(BadInputTest, PageTokenOfOtherFiltersIsInvalidPageToken) {
  const v1::Project other = MakeProject("other");
  for (int i = 0; i < 3; ++i) {
    MakeTask(TaskBuilder(absl::StrCat("t", i))
                 .InProject(seed_project_.id())
                 .WithPriority(v1::Task::HIGH)
                 .WithMetadataJson(R"({"k": "v"})"));
    MakeTask(TaskBuilder(absl::StrCat("t", i)).InProject(other.id()));
  }
  v1::ListTasksRequest issued;
  issued.set_page_size(1);
  issued.set_project_id(seed_project_.id());
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, issued, &page), GrpcOk());
  ASSERT_FALSE(page.next_page_token().empty());
  issued.set_page_token(page.next_page_token());
  // The token continues its own list.
  EXPECT_THAT(Call(&Stub::ListTasks, issued), GrpcOk());

  std::vector<std::pair<std::string, v1::ListTasksRequest>> others;
  auto add = [&](std::string what, auto change) {
    v1::ListTasksRequest request = issued;
    change(request);
    others.emplace_back(std::move(what), std::move(request));
  };
  add("other project", [&](auto& r) { r.set_project_id(other.id()); });
  add("no project filter", [](auto& r) { r.clear_project_id(); });
  add("status", [](auto& r) { r.set_status(v1::Task::PENDING); });
  add("priority", [](auto& r) { r.set_priority(v1::Task::HIGH); });
  add("metadata", [](auto& r) {
    r.set_metadata_key("k");
    r.mutable_metadata_value()->set_string_value("v");
  });
  for (const char* order_by :
       {"create_time", "create_time desc", "priority desc", "title"}) {
    add(absl::StrCat("order_by ", order_by),
        [&](auto& r) { r.set_order_by(order_by); });
  }
  for (const auto& [what, request] : others) {
    ExpectRefused([&] { return Call(&Stub::ListTasks, request); },
                  GrpcInvalidField("page_token", reason::kInvalidPageToken),
                  what);
  }
  // Page size is not a filter: a token continues with any page size.
  v1::ListTasksRequest bigger = issued;
  bigger.set_page_size(2);
  EXPECT_THAT(Call(&Stub::ListTasks, bigger), GrpcOk());

  // A task list's token is no project list's, and the other way round.
  v1::ListProjectsRequest projects;
  projects.set_page_token(issued.page_token());
  ExpectRefused([&] { return Call(&Stub::ListProjects, projects); },
                GrpcInvalidField("page_token", reason::kInvalidPageToken),
                "task token in ListProjects");
  projects.Clear();
  projects.set_page_size(1);
  v1::ListProjectsResponse project_page;
  ASSERT_THAT(Call(&Stub::ListProjects, projects, &project_page), GrpcOk());
  v1::ListTasksRequest tasks;
  tasks.set_page_token(project_page.next_page_token());
  ExpectRefused([&] { return Call(&Stub::ListTasks, tasks); },
                GrpcInvalidField("page_token", reason::kInvalidPageToken),
                "project token in ListTasks");
}

TEST_P(BadInputTest, PageTokenOfAnotherDatabaseIsInvalidPageToken) {
  // Another database has another token secret.
  absl::StatusOr<std::string> elsewhere = ::tasks::testing::FreshStoreDatabase(
      backend(), ::tasks::testing::StoreLocation::kPrivate);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  ServerConfig config;
  config.open_store = [connection = *elsewhere] {
    return storage::OpenSociTaskStore(connection);
  };
  absl::StatusOr<std::unique_ptr<TaskServer>> other =
      TaskServer::Start(std::move(config));
  ASSERT_TRUE(other.ok()) << other.status();
  auto other_stub = v1::TaskService::NewStub((*other)->InProcessChannel());
  for (int i = 0; i < 2; ++i) {
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title(absl::StrCat("t", i));
    v1::Task task;
    ASSERT_THAT(Call(&Stub::CreateTask, create, &task, other_stub.get()),
                GrpcOk());
  }
  v1::ListTasksRequest request;
  request.set_page_size(1);
  v1::ListTasksResponse page;
  ASSERT_THAT(Call(&Stub::ListTasks, request, &page, other_stub.get()),
              GrpcOk());
  (*other)->Shutdown();

  request.set_page_token(page.next_page_token());
  ExpectRefused([&] { return Call(&Stub::ListTasks, request); },
                GrpcInvalidField("page_token", reason::kInvalidPageToken),
                "token of another database");
}

// --- Ids -----------------------------------------------------------------

TEST_P(BadInputTest, IdsZeroNegativeAndInt64MinAreInvalidArgument) {
  for (int64_t id : kInvalidIds) {
    SCOPED_TRACE(id);
    v1::GetTaskRequest get_task;
    get_task.set_id(id);
    EXPECT_THAT(Call(&Stub::GetTask, get_task),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::GetProjectRequest get_project;
    get_project.set_id(id);
    EXPECT_THAT(Call(&Stub::GetProject, get_project),
                GrpcInvalidField("id", reason::kInvalidArgument));
    v1::ListTasksRequest list;
    list.set_project_id(id);
    EXPECT_THAT(Call(&Stub::ListTasks, list),
                GrpcInvalidField("project_id", reason::kInvalidArgument));

    v1::DeleteTaskRequest delete_task;
    delete_task.set_id(id);
    ExpectRefused([&] { return Call(&Stub::DeleteTask, delete_task); },
                  GrpcInvalidField("id", reason::kInvalidArgument),
                  "DeleteTask");
    v1::DeleteProjectRequest delete_project;
    delete_project.set_id(id);
    delete_project.set_force(true);
    ExpectRefused([&] { return Call(&Stub::DeleteProject, delete_project); },
                  GrpcInvalidField("id", reason::kInvalidArgument),
                  "DeleteProject");
    v1::UpdateTaskRequest update_task;
    update_task.mutable_task()->set_id(id);
    update_task.mutable_task()->set_title("t");
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update_task); },
                  GrpcInvalidField("task.id", reason::kInvalidArgument),
                  "UpdateTask");
    v1::UpdateProjectRequest update_project;
    update_project.mutable_project()->set_id(id);
    update_project.mutable_project()->set_name("p");
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update_project); },
                  GrpcInvalidField("project.id", reason::kInvalidArgument),
                  "UpdateProject");
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("t");
    create.mutable_task()->set_project_id(id);
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcInvalidField("task.project_id", reason::kInvalidArgument),
                  "CreateTask project_id");
    v1::UpdateTaskRequest move;
    move.mutable_task()->set_id(seed_task_.id());
    move.mutable_task()->set_project_id(id);
    ExpectRefused([&] { return Call(&Stub::UpdateTask, move); },
                  GrpcInvalidField("task.project_id", reason::kInvalidArgument),
                  "UpdateTask project_id");
  }
}

TEST_P(BadInputTest, IdInt64MaxIsNotFound) {
  v1::GetTaskRequest get_task;
  get_task.set_id(kInt64Max);
  EXPECT_THAT(Call(&Stub::GetTask, get_task),
              GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound));
  v1::GetProjectRequest get_project;
  get_project.set_id(kInt64Max);
  EXPECT_THAT(Call(&Stub::GetProject, get_project),
              GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound));

  v1::DeleteTaskRequest delete_task;
  delete_task.set_id(kInt64Max);
  ExpectRefused([&] { return Call(&Stub::DeleteTask, delete_task); },
                GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound),
                "DeleteTask");
  v1::DeleteProjectRequest delete_project;
  delete_project.set_id(kInt64Max);
  delete_project.set_force(true);
  ExpectRefused([&] { return Call(&Stub::DeleteProject, delete_project); },
                GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound),
                "DeleteProject");
  v1::UpdateTaskRequest update_task;
  update_task.mutable_task()->set_id(kInt64Max);
  update_task.mutable_task()->set_title("t");
  ExpectRefused([&] { return Call(&Stub::UpdateTask, update_task); },
                GrpcErrorIs(Code::NOT_FOUND, reason::kTaskNotFound),
                "UpdateTask");
  v1::UpdateProjectRequest update_project;
  update_project.mutable_project()->set_id(kInt64Max);
  update_project.mutable_project()->set_name("p");
  ExpectRefused([&] { return Call(&Stub::UpdateProject, update_project); },
                GrpcErrorIs(Code::NOT_FOUND, reason::kProjectNotFound),
                "UpdateProject");

  // As a reference to a project, it names a missing one.
  v1::CreateTaskRequest create;
  create.mutable_task()->set_title("t");
  create.mutable_task()->set_project_id(kInt64Max);
  ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                GrpcErrorIs(Code::FAILED_PRECONDITION, reason::kProjectMissing),
                "CreateTask project_id");
  v1::UpdateTaskRequest move;
  move.mutable_task()->set_id(seed_task_.id());
  move.mutable_task()->set_project_id(kInt64Max);
  ExpectRefused([&] { return Call(&Stub::UpdateTask, move); },
                GrpcErrorIs(Code::FAILED_PRECONDITION, reason::kProjectMissing),
                "UpdateTask project_id");
  v1::ListTasksRequest list;
  list.set_project_id(kInt64Max);
  v1::ListTasksResponse none;
  EXPECT_THAT(Call(&Stub::ListTasks, list, &none), GrpcOk());
  EXPECT_THAT(none.tasks(), IsEmpty());
}

// --- Enums -----------------------------------------------------------------

TEST_P(BadInputTest, UnknownEnumNumbersAreInvalidArgument) {
  const auto bad_status = static_cast<v1::Task::Status>(7);
  const auto bad_priority = static_cast<v1::Task::Priority>(-1);
  for (bool status : {true, false}) {
    const std::string field = status ? "status" : "priority";
    auto spoil = [&](v1::Task& task) {
      if (status) {
        task.set_status(bad_status);
      } else {
        task.set_priority(bad_priority);
      }
    };
    v1::CreateTaskRequest create;
    create.mutable_task()->set_title("t");
    spoil(*create.mutable_task());
    ExpectRefused([&] { return Call(&Stub::CreateTask, create); },
                  GrpcInvalidField("task." + field, reason::kInvalidArgument),
                  "CreateTask " + field);

    v1::BatchCreateTasksRequest batch;
    batch.add_requests()->mutable_task()->set_title("fine");
    *batch.add_requests() = create;
    ExpectRefused(
        [&] { return Call(&Stub::BatchCreateTasks, batch); },
        GrpcInvalidField("requests[1].task." + field, reason::kInvalidArgument),
        "BatchCreateTasks " + field);

    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(seed_task_.id());
    spoil(*update.mutable_task());
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("task." + field, reason::kInvalidArgument),
                  "UpdateTask " + field + " without mask");
    update.mutable_update_mask()->add_paths(field);
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("task." + field, reason::kInvalidArgument),
                  "UpdateTask " + field + " in mask");
    // Outside the mask, an unknown number is still refused.
    update.mutable_task()->set_title("renamed");
    update.mutable_update_mask()->set_paths(0, "title");
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("task." + field, reason::kInvalidArgument),
                  "UpdateTask " + field + " outside the mask");

    v1::ListTasksRequest list;
    if (status) {
      list.set_status(bad_status);
    } else {
      list.set_priority(bad_priority);
    }
    EXPECT_THAT(Call(&Stub::ListTasks, list),
                GrpcInvalidField(field, reason::kInvalidArgument));
  }
  // The extremes of the wire's range too.
  v1::ListTasksRequest list;
  list.set_status(static_cast<v1::Task::Status>(kInt32Max));
  EXPECT_THAT(Call(&Stub::ListTasks, list),
              GrpcInvalidField("status", reason::kInvalidArgument));
  list.Clear();
  list.set_priority(static_cast<v1::Task::Priority>(kInt32Min));
  EXPECT_THAT(Call(&Stub::ListTasks, list),
              GrpcInvalidField("priority", reason::kInvalidArgument));
}

// --- Field masks -----------------------------------------------------------

TEST_P(BadInputTest, MaskWithUnknownPathIsInvalidFieldMask) {
  const std::vector<std::vector<std::string>> task_masks = {
      {"titel"},      {""},
      {"Title"},      {"task.title"},
      {" title"},     {"title,description"},
      {"metadata.k"}, {"title", "nonsense"},
      {"*", "title"}, {"title", "*"},
      {"**"},         {"project"},
  };
  for (const std::vector<std::string>& paths : task_masks) {
    v1::UpdateTaskRequest update;
    update.mutable_task()->set_id(seed_task_.id());
    update.mutable_task()->set_title("renamed");
    for (const std::string& path : paths) {
      update.mutable_update_mask()->add_paths(path);
    }
    ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                  GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                  update.update_mask().ShortDebugString());
  }
  const std::vector<std::vector<std::string>> project_masks = {
      {"owner"}, {"name.first"}, {"title"}, {"Name"}, {"*", "name"}, {""},
  };
  for (const std::vector<std::string>& paths : project_masks) {
    v1::UpdateProjectRequest update;
    update.mutable_project()->set_id(seed_project_.id());
    update.mutable_project()->set_name("renamed");
    for (const std::string& path : paths) {
      update.mutable_update_mask()->add_paths(path);
    }
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update); },
                  GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                  update.update_mask().ShortDebugString());
  }
}

TEST_P(BadInputTest, MaskWithOutputOnlyPathIsInvalidFieldMask) {
  for (const char* path : {"id", "create_time", "update_time", "etag"}) {
    for (bool with_valid_path : {false, true}) {
      v1::UpdateTaskRequest update;
      update.mutable_task()->set_id(seed_task_.id());
      update.mutable_task()->set_title("renamed");
      if (with_valid_path) update.mutable_update_mask()->add_paths("title");
      update.mutable_update_mask()->add_paths(path);
      ExpectRefused([&] { return Call(&Stub::UpdateTask, update); },
                    GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                    update.update_mask().ShortDebugString());
    }
  }
  for (const char* path : {"id", "create_time", "update_time"}) {
    v1::UpdateProjectRequest update;
    update.mutable_project()->set_id(seed_project_.id());
    update.mutable_project()->set_name("renamed");
    update.mutable_update_mask()->add_paths("name");
    update.mutable_update_mask()->add_paths(path);
    ExpectRefused([&] { return Call(&Stub::UpdateProject, update); },
                  GrpcInvalidField("update_mask", reason::kInvalidFieldMask),
                  update.update_mask().ShortDebugString());
  }
}

TEST_P(BadInputTest, MaskWithDuplicatePathsUpdatesEachFieldOnce) {
  // Two tasks updated alike, one with every path twice: same result, and one
  // new revision each.
  v1::Task twin = MakeTask(TaskBuilder("twin").WithMetadataJson(R"({"a": 1})"));
  v1::Task changes;
  changes.set_project_id(seed_project_.id());
  changes.set_title("updated");
  changes.set_description("new description");
  changes.set_status(v1::Task::COMPLETED);
  changes.set_priority(v1::Task::LOW);
  *changes.mutable_metadata() = ::tasks::testing::StructFromJson(R"({"b": 2})");

  v1::UpdateTaskRequest once;
  *once.mutable_task() = changes;
  once.mutable_task()->set_id(twin.id());
  once.mutable_task()->set_title("updated twin");
  v1::UpdateTaskRequest twice;
  *twice.mutable_task() = changes;
  twice.mutable_task()->set_id(seed_task_.id());
  twice.mutable_task()->set_etag(seed_task_.etag());
  for (const char* path : kTaskMutablePaths) {
    once.mutable_update_mask()->add_paths(path);
    twice.mutable_update_mask()->add_paths(path);
    twice.mutable_update_mask()->add_paths(path);
  }
  v1::Task updated_once;
  v1::Task updated_twice;
  ASSERT_THAT(Call(&Stub::UpdateTask, once, &updated_once), GrpcOk());
  ASSERT_THAT(Call(&Stub::UpdateTask, twice, &updated_twice), GrpcOk());
  EXPECT_EQ(updated_twice.title(), "updated");
  EXPECT_EQ(updated_twice.description(), updated_once.description());
  EXPECT_EQ(updated_twice.status(), v1::Task::COMPLETED);
  EXPECT_EQ(updated_twice.priority(), v1::Task::LOW);
  EXPECT_EQ(updated_twice.project_id(), seed_project_.id());
  EXPECT_THAT(updated_twice.metadata(), EqualsProto(changes.metadata()));
  EXPECT_THAT(FetchTask(seed_task_.id()), EqualsProto(updated_twice));
  // One new revision each.
  EXPECT_EQ(
      RawSql(absl::StrCat("SELECT revision FROM tasks WHERE id = ",
                          seed_task_.id()))
          .value_or("?"),
      RawSql(absl::StrCat("SELECT revision FROM tasks WHERE id = ", twin.id()))
          .value_or("?"));
  EXPECT_EQ(
      RawSql(absl::StrCat("SELECT revision FROM tasks WHERE id = ", twin.id()))
          .value_or("?"),
      "2");

  v1::UpdateProjectRequest project;
  project.mutable_project()->set_id(seed_project_.id());
  project.mutable_project()->set_name("renamed");
  project.mutable_project()->set_description("described");
  for (const char* path : {"name", "name", "description", "name"}) {
    project.mutable_update_mask()->add_paths(path);
  }
  v1::Project renamed;
  ASSERT_THAT(Call(&Stub::UpdateProject, project, &renamed), GrpcOk());
  EXPECT_EQ(renamed.name(), "renamed");
  EXPECT_EQ(renamed.description(), "described");
  EXPECT_THAT(FetchProject(seed_project_.id()), EqualsProto(renamed));
}

}  // namespace
}  // namespace tasks::service
