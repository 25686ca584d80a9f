#ifndef TASKS_TESTS_TESTING_MOCK_TASK_STORE_H_
#define TASKS_TESTS_TESTING_MOCK_TASK_STORE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "storage/task_store.h"

namespace tasks::testing {

// A TaskStore whose every method is a GoogleMock method, for injecting store
// errors (UNAVAILABLE, INTERNAL, ...) and blocking calls into the layers
// above storage:
//   auto store = std::make_unique<::testing::NiceMock<MockTaskStore>>();
//   EXPECT_CALL(*store, GetTask(7, _))
//       .WillOnce(Return(absl::UnavailableError("database is down")));
// With DelegateTo(), calls without an expectation of their own reach a real
// store, so that a test changes only the calls it is about.
class MockTaskStore : public storage::TaskStore {
 public:
  // Makes every mocked method call `real` (which must outlive the mock) by
  // default. The scoped lists are not mocked: restricted, they fail closed
  // as in TaskStore.
  void DelegateTo(storage::TaskStore* real) {
    using ::testing::Invoke;
    ON_CALL(*this, CreateProject)
        .WillByDefault(Invoke(real, &TaskStore::CreateProject));
    ON_CALL(*this, GetProject)
        .WillByDefault(Invoke(real, &TaskStore::GetProject));
    ON_CALL(*this, ListProjects(::testing::_, ::testing::_))
        .WillByDefault([real](int page_size, absl::string_view page_token) {
          return real->ListProjects(page_size, page_token);
        });
    ON_CALL(*this, UpdateProject)
        .WillByDefault(Invoke(real, &TaskStore::UpdateProject));
    ON_CALL(*this, DeleteProject)
        .WillByDefault(Invoke(real, &TaskStore::DeleteProject));
    ON_CALL(*this, CreateTask)
        .WillByDefault([real](const v1::Task& task,
                              absl::string_view request_id,
                              const storage::Idempotency& idempotency) {
          return real->CreateTask(task, request_id, idempotency);
        });
    ON_CALL(*this, BatchCreateTasks)
        .WillByDefault([real](const v1::BatchCreateTasksRequest& request,
                              const storage::Idempotency& idempotency) {
          return real->BatchCreateTasks(request, idempotency);
        });
    ON_CALL(*this, GetTask).WillByDefault(Invoke(real, &TaskStore::GetTask));
    ON_CALL(*this, ListTasks)
        .WillByDefault([real](const v1::ListTasksRequest& request,
                              const storage::AccessScope& scope,
                              v1::ListTasksResponse& page) {
          return real->ListTasks(request, scope, page);
        });
    ON_CALL(*this, UpdateTask)
        .WillByDefault(Invoke(real, &TaskStore::UpdateTask));
    ON_CALL(*this, DeleteTask)
        .WillByDefault(Invoke(real, &TaskStore::DeleteTask));
    ON_CALL(*this, CheckHealth)
        .WillByDefault(Invoke(real, &TaskStore::CheckHealth));
  }

  MOCK_METHOD(absl::StatusOr<v1::Project>, CreateProject,
              (const v1::Project& project), (override));
  MOCK_METHOD(absl::StatusOr<v1::Project>, GetProject, (int64_t id),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::ListProjectsResponse>, ListProjects,
              (int page_size, absl::string_view page_token), (override));
  MOCK_METHOD(absl::StatusOr<v1::Project>, UpdateProject,
              (const v1::Project& project,
               const google::protobuf::FieldMask& mask),
              (override));
  MOCK_METHOD(absl::Status, DeleteProject, (int64_t id, bool cascade),
              (override));
  using TaskStore::CreateTask;
  MOCK_METHOD(absl::StatusOr<v1::Task>, CreateTask,
              (const v1::Task& task, absl::string_view request_id,
               const storage::Idempotency& idempotency),
              (override));
  // Declines (false) unless a test says otherwise, as TaskStore does.
  MOCK_METHOD(bool, TryCreateTaskAsync,
              (const v1::Task& task, absl::string_view request_id,
               const storage::Idempotency& idempotency, absl::Time deadline,
               TaskCallback done),
              (override));
  using TaskStore::BatchCreateTasks;
  MOCK_METHOD(absl::StatusOr<v1::BatchCreateTasksResponse>, BatchCreateTasks,
              (const v1::BatchCreateTasksRequest& request,
               const storage::Idempotency& idempotency),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Task>, GetTask,
              (int64_t id, const storage::AccessScope& scope), (override));
  using TaskStore::ListTasks;
  MOCK_METHOD(absl::Status, ListTasks,
              (const v1::ListTasksRequest& request,
               const storage::AccessScope& scope, v1::ListTasksResponse& page),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Task>, UpdateTask,
              (const v1::Task& task, const google::protobuf::FieldMask& mask,
               const storage::AccessScope& scope),
              (override));
  MOCK_METHOD(absl::Status, DeleteTask,
              (int64_t id, const storage::AccessScope& scope), (override));
  MOCK_METHOD(absl::Status, CheckHealth, (), (override));
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_MOCK_TASK_STORE_H_
