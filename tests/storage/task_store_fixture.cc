#include "tests/storage/task_store_fixture.h"

#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/task_builders.h"

namespace tasks::storage {
namespace {

using ::tasks::testing::FreshStoreDatabase;
using ::tasks::testing::ProjectNamed;
using ::tasks::testing::StoreBackend;
using ::tasks::testing::StoreLocation;

const bool kEnvironmentRegistered =
    ::tasks::testing::RegisterStoreBackendEnvironment();

}  // namespace

std::vector<int64_t> Ids(const std::vector<v1::Task>& tasks) {
  std::vector<int64_t> ids;
  for (const v1::Task& task : tasks) ids.push_back(task.id());
  return ids;
}

std::vector<std::string> Titles(const std::vector<v1::Task>& tasks) {
  std::vector<std::string> titles;
  for (const v1::Task& task : tasks) titles.push_back(task.title());
  return titles;
}

bool InOrder(const v1::Task& a, const v1::Task& b, absl::string_view order_by) {
  if (order_by == "create_time") return a.create_time() <= b.create_time();
  if (order_by == "create_time desc") {
    return b.create_time() <= a.create_time();
  }
  if (order_by == "priority desc") return a.priority() >= b.priority();
  if (order_by == "title") return a.title() <= b.title();
  return a.id() < b.id();
}

Idempotency ScopeNamed(const std::string& name) {
  Idempotency idempotency;
  idempotency.scope = name;
  return idempotency;
}

v1::ListTasksRequest TasksInProject(int64_t project_id) {
  v1::ListTasksRequest request;
  request.set_project_id(project_id);
  return request;
}

v1::ListTasksRequest TasksWithMetadata(absl::string_view key,
                                       absl::string_view value_json) {
  v1::ListTasksRequest request;
  request.set_metadata_key(std::string(key));
  *request.mutable_metadata_value() =
      ::tasks::testing::ValueFromJson(value_json);
  return request;
}

void RunThreads(int threads, const std::function<void(int)>& body) {
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) workers.emplace_back(body, i);
  for (std::thread& worker : workers) worker.join();
}

void TaskStoreTest::SetUp() {
  ASSERT_OK_AND_ASSIGN(store_, OpenFreshStore(StoreLocation::kPrivate));
}

void TaskStoreTest::TearDown() {
  store_.reset();
  ::tasks::testing::ReleaseFreshStoreDatabases();
}

absl::StatusOr<TaskStorePtr> TaskStoreTest::OpenFreshStore(
    StoreLocation location, const SociTaskStoreOptions& options) {
  ASSIGN_OR_RETURN(std::string connection,
                   FreshStoreDatabase(backend(), location));
  return OpenSociTaskStore(connection, options);
}

absl::StatusOr<std::vector<v1::Task>> TaskStoreTest::ListAllTasks(
    TaskStore& store, v1::ListTasksRequest request, int page_size) {
  std::vector<v1::Task> tasks;
  request.set_page_size(page_size);
  for (int page = 0; page < 10000; ++page) {
    ASSIGN_OR_RETURN(v1::ListTasksResponse response, store.ListTasks(request));
    tasks.insert(tasks.end(), response.tasks().begin(), response.tasks().end());
    if (response.next_page_token().empty()) return tasks;
    request.set_page_token(response.next_page_token());
  }
  return absl::InternalError("ListTasks never reached its last page");
}

absl::StatusOr<std::vector<v1::Task>> TaskStoreTest::ListAllTasks(
    const v1::ListTasksRequest& request) {
  return ListAllTasks(store(), request);
}

absl::StatusOr<std::vector<std::string>> TaskStoreTest::ListTitles(
    const v1::ListTasksRequest& request) {
  ASSIGN_OR_RETURN(std::vector<v1::Task> tasks, ListAllTasks(request));
  return Titles(tasks);
}

absl::StatusOr<v1::Task> TaskStoreTest::CreateTask(const v1::Task& task) {
  return store().CreateTask(task, "");
}

absl::StatusOr<v1::Project> TaskStoreTest::CreateProject(
    absl::string_view name) {
  return store().CreateProject(ProjectNamed(name));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, TaskStoreTest,
    ::testing::ValuesIn(::tasks::testing::SelectedStoreBackends()),
    [](const ::testing::TestParamInfo<StoreBackend>& info) {
      return ::tasks::testing::StoreBackendName(info.param);
    });

}  // namespace tasks::storage
