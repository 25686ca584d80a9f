#include "service/deferred_task_store.h"

#include <utility>

#include "common/error_reason.h"

namespace tasks::service {

bool DeferredTaskStore::Set(storage::TaskStorePtr store) {
  absl::MutexLock lock(&mu_);
  if (owned_ != nullptr || closed_ || store == nullptr) return false;
  owned_ = std::move(store);
  if (cancelled_) owned_->CancelCalls();
  current_.store(owned_.get(), std::memory_order_release);
  return true;
}

bool DeferredTaskStore::has_store() const {
  return current_.load(std::memory_order_acquire) != nullptr;
}

void DeferredTaskStore::CancelCalls() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // Under the lock: Close() cannot destroy the store meanwhile. Cancelling
  // does not block.
  if (owned_ != nullptr) owned_->CancelCalls();
}

void DeferredTaskStore::Close() {
  storage::TaskStorePtr closing;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    current_.store(nullptr, std::memory_order_release);
    closing = std::move(owned_);
  }
  // Destroyed outside the lock: closing connections may take a while.
}

template <typename Call>
auto DeferredTaskStore::Forward(Call call)
    -> decltype(call(std::declval<TaskStore&>())) {
  storage::TaskStore* store = current_.load(std::memory_order_acquire);
  if (store == nullptr) {
    return WithReason(absl::UnavailableError("the database is not available"),
                      reason::kDatabaseUnavailable);
  }
  return call(*store);
}

absl::StatusOr<v1::Project> DeferredTaskStore::CreateProject(
    const v1::Project& project) {
  return Forward([&](TaskStore& s) { return s.CreateProject(project); });
}

absl::StatusOr<v1::Project> DeferredTaskStore::GetProject(int64_t id) {
  return Forward([&](TaskStore& s) { return s.GetProject(id); });
}

absl::StatusOr<v1::ListProjectsResponse> DeferredTaskStore::ListProjects(
    int page_size, absl::string_view page_token) {
  return Forward(
      [&](TaskStore& s) { return s.ListProjects(page_size, page_token); });
}

absl::StatusOr<v1::ListProjectsResponse> DeferredTaskStore::ListProjects(
    int page_size, absl::string_view page_token,
    const storage::AccessScope& scope) {
  return Forward([&](TaskStore& s) {
    return s.ListProjects(page_size, page_token, scope);
  });
}

absl::StatusOr<v1::Project> DeferredTaskStore::UpdateProject(
    const v1::Project& project, const google::protobuf::FieldMask& mask) {
  return Forward([&](TaskStore& s) { return s.UpdateProject(project, mask); });
}

absl::Status DeferredTaskStore::DeleteProject(int64_t id, bool cascade) {
  return Forward([&](TaskStore& s) { return s.DeleteProject(id, cascade); });
}

absl::StatusOr<v1::Task> DeferredTaskStore::CreateTask(
    const v1::Task& task, absl::string_view request_id,
    const storage::Idempotency& idempotency) {
  return Forward([&](TaskStore& s) {
    return s.CreateTask(task, request_id, idempotency);
  });
}

absl::StatusOr<v1::BatchCreateTasksResponse>
DeferredTaskStore::BatchCreateTasks(const v1::BatchCreateTasksRequest& request,
                                    const storage::Idempotency& idempotency) {
  return Forward(
      [&](TaskStore& s) { return s.BatchCreateTasks(request, idempotency); });
}

absl::StatusOr<v1::Task> DeferredTaskStore::GetTask(
    int64_t id, const storage::AccessScope& scope) {
  return Forward([&](TaskStore& s) { return s.GetTask(id, scope); });
}

bool DeferredTaskStore::TryCreateTaskAsync(
    const v1::Task& task, absl::string_view request_id,
    const storage::Idempotency& idempotency, absl::Time deadline,
    TaskCallback done) {
  storage::TaskStore* store = current_.load(std::memory_order_acquire);
  return store != nullptr &&
         store->TryCreateTaskAsync(task, request_id, idempotency, deadline,
                                   std::move(done));
}

bool DeferredTaskStore::TryGetTaskAsync(int64_t id,
                                        const storage::AccessScope& scope,
                                        absl::Time deadline,
                                        TaskCallback done) {
  storage::TaskStore* store = current_.load(std::memory_order_acquire);
  return store != nullptr &&
         store->TryGetTaskAsync(id, scope, deadline, std::move(done));
}

absl::Status DeferredTaskStore::ListTasks(const v1::ListTasksRequest& request,
                                          const storage::AccessScope& scope,
                                          v1::ListTasksResponse& page) {
  return Forward(
      [&](TaskStore& s) { return s.ListTasks(request, scope, page); });
}

absl::StatusOr<v1::Task> DeferredTaskStore::UpdateTask(
    const v1::Task& task, const google::protobuf::FieldMask& mask,
    const storage::AccessScope& scope) {
  return Forward([&](TaskStore& s) { return s.UpdateTask(task, mask, scope); });
}

absl::Status DeferredTaskStore::DeleteTask(int64_t id,
                                           const storage::AccessScope& scope) {
  return Forward([&](TaskStore& s) { return s.DeleteTask(id, scope); });
}

absl::StatusOr<storage::ChangePosition>
DeferredTaskStore::LatestChangePosition() {
  return Forward([&](TaskStore& s) { return s.LatestChangePosition(); });
}

absl::StatusOr<std::vector<storage::TaskChange>> DeferredTaskStore::ReadChanges(
    const storage::ChangePosition& after, int limit) {
  return Forward([&](TaskStore& s) { return s.ReadChanges(after, limit); });
}

absl::StatusOr<int> DeferredTaskStore::SequenceChanges() {
  return Forward([&](TaskStore& s) { return s.SequenceChanges(); });
}

absl::StatusOr<bool> DeferredTaskStore::WaitForChanges(absl::Duration timeout) {
  return Forward([&](TaskStore& s) { return s.WaitForChanges(timeout); });
}

absl::Status DeferredTaskStore::TrimChanges(absl::Time before) {
  return Forward([&](TaskStore& s) { return s.TrimChanges(before); });
}

absl::Status DeferredTaskStore::CheckHealth() {
  return Forward([&](TaskStore& s) { return s.CheckHealth(); });
}

}  // namespace tasks::service
