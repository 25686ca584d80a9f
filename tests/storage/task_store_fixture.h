#ifndef TASKS_TESTS_STORAGE_TASK_STORE_FIXTURE_H_
#define TASKS_TESTS_STORAGE_TASK_STORE_FIXTURE_H_

// The fixture of the TaskStore suite (the task_store_*_test.cc files): each
// test runs once per backend TASKS_TEST_STORE_BACKENDS selects (see
// tests/testing/store_backends.h) and gets a fresh, empty database. Tests
// that need several connections or a reopenable database open a shared one
// (a SQLite file instead of `:memory:`) with OpenFreshStore.
//
// The suite is instantiated once, in task_store_fixture.cc, as
// `Backends/TaskStoreTest.<Name>/<Backend>`: a file adds cases with
//   TEST_P(TaskStoreTest, SomethingIsSo) { ... }

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "storage/soci_task_store.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"
#include "tests/testing/store_backends.h"

namespace tasks::storage {

// Calls that may reach every row.
inline const AccessScope kEveryRow = AccessScope::All();

// The order_by values ListTasks accepts.
inline constexpr const char* kOrderBys[] = {
    "", "create_time", "create_time desc", "priority desc", "title"};

// The ids, and the titles, of `tasks` in their order.
std::vector<int64_t> Ids(const std::vector<v1::Task>& tasks);
std::vector<std::string> Titles(const std::vector<v1::Task>& tasks);

// True when `a` may come before `b` in a listing ordered by `order_by`.
bool InOrder(const v1::Task& a, const v1::Task& b, absl::string_view order_by);

// An idempotency scope without a replay check.
Idempotency ScopeNamed(const std::string& name);

// A ListTasks request for the tasks of one project, or for the tasks whose
// metadata holds `value_json` under `key`.
v1::ListTasksRequest TasksInProject(int64_t project_id);
v1::ListTasksRequest TasksWithMetadata(absl::string_view key,
                                       absl::string_view value_json);

// Runs `body(thread_index)` on `threads` threads at once and joins them.
void RunThreads(int threads, const std::function<void(int)>& body);

class TaskStoreTest
    : public ::testing::TestWithParam<::tasks::testing::StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ::tasks::testing::StoreBackend backend() const { return GetParam(); }

  // The test's store, on a private fresh database (`:memory:` on SQLite).
  TaskStore& store() { return *store_; }

  // A new store on a new, empty database.
  absl::StatusOr<TaskStorePtr> OpenFreshStore(
      ::tasks::testing::StoreLocation location,
      const SociTaskStoreOptions& options = {});

  // Every task matching `request`, page by page.
  static absl::StatusOr<std::vector<v1::Task>> ListAllTasks(
      TaskStore& store, v1::ListTasksRequest request, int page_size = 1000);
  absl::StatusOr<std::vector<v1::Task>> ListAllTasks(
      const v1::ListTasksRequest& request = {});

  // Titles of every task matching `request`, in listing order.
  absl::StatusOr<std::vector<std::string>> ListTitles(
      const v1::ListTasksRequest& request = {});

  // On store(), without a request id / with ProjectNamed(name).
  absl::StatusOr<v1::Task> CreateTask(const v1::Task& task);
  absl::StatusOr<v1::Project> CreateProject(absl::string_view name);

 private:
  TaskStorePtr store_;
};

}  // namespace tasks::storage

#endif  // TASKS_TESTS_STORAGE_TASK_STORE_FIXTURE_H_
