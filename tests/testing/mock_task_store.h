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
//   EXPECT_CALL(*store, GetTask(7))
//       .WillOnce(Return(absl::UnavailableError("database is down")));
class MockTaskStore : public storage::TaskStore {
 public:
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
  MOCK_METHOD(absl::StatusOr<v1::Task>, CreateTask,
              (const v1::Task& task, absl::string_view request_id),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::BatchCreateTasksResponse>, BatchCreateTasks,
              (const v1::BatchCreateTasksRequest& request), (override));
  MOCK_METHOD(absl::StatusOr<v1::Task>, GetTask, (int64_t id), (override));
  MOCK_METHOD(absl::StatusOr<v1::ListTasksResponse>, ListTasks,
              (const v1::ListTasksRequest& request), (override));
  MOCK_METHOD(absl::StatusOr<v1::Task>, UpdateTask,
              (const v1::Task& task, const google::protobuf::FieldMask& mask),
              (override));
  MOCK_METHOD(absl::Status, DeleteTask, (int64_t id), (override));
  MOCK_METHOD(absl::Status, CheckHealth, (), (override));
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_MOCK_TASK_STORE_H_
