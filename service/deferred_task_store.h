#ifndef TASKS_SERVICE_DEFERRED_TASK_STORE_H_
#define TASKS_SERVICE_DEFERRED_TASK_STORE_H_

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/task_store.h"

namespace tasks::service {

// DeferredTaskStore
//
// A TaskStore whose backing store may arrive after the server has started:
// the server comes up while the database is down, and the store is installed
// once it can be opened. Until then (and after Close()) every call returns
// UNAVAILABLE with reason DATABASE_UNAVAILABLE, which clients may retry.
// Calls are thread-safe; with a store installed they cost one atomic load on
// top of the backing store's own cost.
//
// Example:
//   DeferredTaskStore store;
//   TaskServiceImpl service(store);     // serves UNAVAILABLE for now
//   ...
//   store.Set(*OpenSociTaskStore(db));  // from now on calls reach the database
class DeferredTaskStore final : public storage::TaskStore {
 public:
  DeferredTaskStore() = default;
  DeferredTaskStore(const DeferredTaskStore&) = delete;
  DeferredTaskStore& operator=(const DeferredTaskStore&) = delete;

  // Installs the backing store. Returns false (and drops `store`) when one is
  // already installed or the store was closed.
  bool Set(storage::TaskStorePtr store);

  // True between a successful Set() and Close().
  bool has_store() const;

  // Destroys the backing store, closing its connections. Only once no call
  // can be in flight (the server has stopped); later calls get UNAVAILABLE.
  void Close();

  absl::StatusOr<v1::Project> CreateProject(
      const v1::Project& project) override;
  absl::StatusOr<v1::Project> GetProject(int64_t id) override;
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token) override;
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      int page_size, absl::string_view page_token,
      const storage::AccessScope& scope) override;
  absl::StatusOr<v1::Project> UpdateProject(
      const v1::Project& project,
      const google::protobuf::FieldMask& mask) override;
  absl::Status DeleteProject(int64_t id, bool cascade) override;
  using TaskStore::CreateTask;
  absl::StatusOr<v1::Task> CreateTask(
      const v1::Task& task, absl::string_view request_id,
      const storage::Idempotency& idempotency) override;
  bool TryCreateTaskAsync(const v1::Task& task, absl::string_view request_id,
                          const storage::Idempotency& idempotency,
                          absl::Time deadline, TaskCallback done) override;
  using TaskStore::BatchCreateTasks;
  absl::StatusOr<v1::BatchCreateTasksResponse> BatchCreateTasks(
      const v1::BatchCreateTasksRequest& request,
      const storage::Idempotency& idempotency) override;
  absl::StatusOr<v1::Task> GetTask(int64_t id,
                                   const storage::AccessScope& scope) override;
  bool TryGetTaskAsync(int64_t id, const storage::AccessScope& scope,
                       absl::Time deadline, TaskCallback done) override;
  using TaskStore::ListTasks;
  absl::Status ListTasks(const v1::ListTasksRequest& request,
                         const storage::AccessScope& scope,
                         v1::ListTasksResponse& page) override;
  absl::StatusOr<v1::Task> UpdateTask(
      const v1::Task& task, const google::protobuf::FieldMask& mask,
      const storage::AccessScope& scope) override;
  absl::Status DeleteTask(int64_t id,
                          const storage::AccessScope& scope) override;
  absl::StatusOr<storage::ChangePosition> LatestChangePosition() override;
  absl::StatusOr<std::vector<storage::TaskChange>> ReadChanges(
      const storage::ChangePosition& after, int limit) override;
  absl::StatusOr<int> SequenceChanges() override;
  absl::StatusOr<bool> WaitForChanges(absl::Duration timeout) override;
  absl::Status TrimChanges(absl::Time before) override;
  absl::Status CheckHealth() override;
  // Forwarded to the backing store; Set() after it installs a store whose
  // calls are cancelled too.
  void CancelCalls() override;

 private:
  // Calls `call(store)` on the backing store, or returns UNAVAILABLE.
  template <typename Call>
  auto Forward(Call call) -> decltype(call(std::declval<TaskStore&>()));

  absl::Mutex mu_;
  storage::TaskStorePtr owned_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // owned_.get() while installed; read without the lock on every call.
  std::atomic<storage::TaskStore*> current_{nullptr};
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_DEFERRED_TASK_STORE_H_
