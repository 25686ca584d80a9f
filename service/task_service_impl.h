#ifndef TASKS_SERVICE_TASK_SERVICE_IMPL_H_
#define TASKS_SERVICE_TASK_SERVICE_IMPL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "service/auth.h"
#include "service/request_validation.h"
#include "service/watch_cursor.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::service {

// TaskServiceImpl
//
// tasks.v1.TaskService on top of a storage::TaskStore. Every RPC validates
// its request (request_validation.h: INVALID_ARGUMENT naming the field), then
// calls the store, then converts the store's status with ToGrpcStatus, so
// each error reaches the client with the code documented in tasks.proto and a
// google.rpc.ErrorInfo reason. Output-only fields of created resources are
// ignored; update masks are resolved into explicit paths for the store.
// A call whose client deadline has already passed gets DEADLINE_EXCEEDED
// without reaching the store; otherwise the store gives up at that deadline,
// or 30 s from now if sooner. A call the client cancelled is not checked for
// (ServerContext::IsCancelled costs a completion-queue poll per call): it
// runs on, and gRPC drops its reply; but a list's store call stops once its
// front cancels the call's CallCancellation (see AsyncTaskService).
//
// With a TokenTable, every call first needs a known bearer token
// (UNAUTHENTICATED, reason UNAUTHENTICATED, otherwise), and its principal
// reaches only its own projects: a project by its id (PERMISSION_DENIED,
// reason PERMISSION_DENIED, otherwise, decided without the store: the
// principal knows its own list); a task by the project it is in, which the
// store checks in the same statement that reads, updates or deletes it, so a
// task moved away meanwhile is out of reach (NOT_FOUND, reason
// TASK_NOT_FOUND, exactly as for a task that does not exist: the answer never
// tells that a task exists elsewhere); a task by the project it is created
// in, and by the project an update moves it to (PERMISSION_DENIED). Creating
// projects and using tasks without a project take a principal with every
// project. A request_id is the principal's own (another principal's use of
// the same id neither replays nor blocks it), and a retry returns the earlier
// task only while it is within the principal's projects (NOT_FOUND
// otherwise, as if it did not exist). Lists hold only the rows the principal
// may use; ListTasks filtered by a project it may not use is
// PERMISSION_DENIED.
//
// WatchTasks is a stream, served by TaskWatchers (task_watchers.h) from
// what PrepareWatch() makes of its call; a watcher sees the tasks its
// principal may use, as ListTasks does.
//
// Example:
//   TaskServiceImpl service(store);
//   grpc::ServerBuilder builder;
//   builder.RegisterService(&service);
class TaskServiceImpl final : public v1::TaskService::Service {
 public:
  // `store`, and `tokens` when not null, must outlive the service. Null
  // `tokens`: no authentication, every caller may use everything.
  // `on_write`, when set, is called after each write that succeeded
  // (CreateTask, BatchCreateTasks, UpdateTask, DeleteTask, DeleteProject:
  // the ones that change tasks), on the thread that made it: once per
  // project whose tasks it changed (their project after the write), or once
  // with none when that is not known (DeleteTask).
  using OnWrite = std::function<void(std::optional<int64_t> project)>;
  explicit TaskServiceImpl(storage::TaskStore& store,
                           const TokenTable* tokens = nullptr,
                           OnWrite on_write = nullptr);

  grpc::Status CreateProject(grpc::ServerContext* context,
                             const v1::CreateProjectRequest* request,
                             v1::Project* response) override;
  grpc::Status GetProject(grpc::ServerContext* context,
                          const v1::GetProjectRequest* request,
                          v1::Project* response) override;
  grpc::Status ListProjects(grpc::ServerContext* context,
                            const v1::ListProjectsRequest* request,
                            v1::ListProjectsResponse* response) override;
  grpc::Status UpdateProject(grpc::ServerContext* context,
                             const v1::UpdateProjectRequest* request,
                             v1::Project* response) override;
  // `force` is passed to the store as cascade.
  grpc::Status DeleteProject(grpc::ServerContext* context,
                             const v1::DeleteProjectRequest* request,
                             google::protobuf::Empty* response) override;
  grpc::Status CreateTask(grpc::ServerContext* context,
                          const v1::CreateTaskRequest* request,
                          v1::Task* response) override;
  grpc::Status BatchCreateTasks(
      grpc::ServerContext* context, const v1::BatchCreateTasksRequest* request,
      v1::BatchCreateTasksResponse* response) override;
  grpc::Status GetTask(grpc::ServerContext* context,
                       const v1::GetTaskRequest* request,
                       v1::Task* response) override;
  // GetTask and CreateTask answered through `reply`, on a store thread, when
  // the store can do without holding this thread (TaskStore's TryXxxAsync):
  // false, dropping both callbacks uncalled, when it cannot now (then call
  // GetTask or CreateTask). A request refused before the store is answered
  // at once, here. Exactly one callback is called: `run_blocking` instead
  // of `reply` when the store gave the call up without effect
  // (storage/run_blocking.h): the caller then calls GetTask or CreateTask.
  using TaskReply = absl::AnyInvocable<void(const grpc::Status& status,
                                            const v1::Task& task) &&>;
  using RunBlocking = absl::AnyInvocable<void() &&>;
  bool TryGetTaskAsync(grpc::ServerContext* context,
                       const v1::GetTaskRequest* request, TaskReply reply,
                       RunBlocking run_blocking);
  bool TryCreateTaskAsync(grpc::ServerContext* context,
                          const v1::CreateTaskRequest* request, TaskReply reply,
                          RunBlocking run_blocking);

  // The checks of ListTasks that need no caller or store: the async front
  // runs them before a call waits for a list slot, so that a request that
  // would be refused holds no memory while it waits.
  static grpc::Status PrecheckListTasks(const v1::ListTasksRequest& request);
  // The same for BatchCreateTasks, before a call waits for a batch slot.
  static grpc::Status PrecheckBatchCreateTasks(
      const v1::BatchCreateTasksRequest& request);

  grpc::Status ListTasks(grpc::ServerContext* context,
                         const v1::ListTasksRequest* request,
                         v1::ListTasksResponse* response) override;
  grpc::Status UpdateTask(grpc::ServerContext* context,
                          const v1::UpdateTaskRequest* request,
                          v1::Task* response) override;
  grpc::Status DeleteTask(grpc::ServerContext* context,
                          const v1::DeleteTaskRequest* request,
                          google::protobuf::Empty* response) override;

  // A WatchTasks call, up to its stream: who calls, and where it starts.
  struct WatchPlan {
    // Whom the per-principal cap of watchers counts; unset with
    // authentication off, where callers cannot be told apart.
    std::optional<std::string> principal;
    // What the watcher may see: its filter, its scope, and the resume_token
    // parsed (unset: start at the present).
    storage::filter::Node filter;
    storage::AccessScope scope;
    std::optional<storage::ChangePosition> resume;

    // A cursor at `position` (the resume point, or the store's present).
    WatchCursor CursorAt(storage::ChangePosition position) const {
      return WatchCursor(std::move(position), filter, scope);
    }
  };

  // Authenticates the caller (UNAUTHENTICATED as every RPC) and validates
  // the request (ValidateWatchTasks: INVALID_ARGUMENT for the filter, as
  // ListTasks, or the resume_token). Makes no store call.
  absl::StatusOr<WatchPlan> PrepareWatch(
      grpc::ServerContext* context, const v1::WatchTasksRequest& request) const;

  // Whom a call counts for where each caller gets a share (the worker
  // threads, the waiting places of list and batch slots): its token's
  // principal; one key for calls without a valid token (which their
  // handlers refuse). Empty with authentication off, when callers cannot be
  // told apart.
  std::string ShareKey(grpc::ServerContext* context) const;
  // Whether there are callers to share between: several principals.
  bool HasSeveralCallers() const;

 private:
  // Who makes the call: the principal of its bearer token, or
  // UNAUTHENTICATED; with authentication off, an unrestricted principal.
  absl::StatusOr<const Principal*> Caller(grpc::ServerContext* context) const;

  // CreateTask's checks before the store: the caller, the request, the
  // deadline, the task's project. The caller.
  absl::StatusOr<const Principal*> CheckCreateTask(
      grpc::ServerContext* context, const v1::CreateTaskRequest& request) const;

  // GetTask's checks before the store: the caller, the id, the deadline.
  // The scope the read is limited to.
  absl::StatusOr<storage::AccessScope> CheckGetTask(
      grpc::ServerContext* context, const v1::GetTaskRequest& request) const;

  // How the creates of `caller` resolve their request_ids: in a scope of
  // the caller's own, replaying only tasks the caller may reach.
  storage::Idempotency IdempotencyOf(const Principal& caller) const;

  // `status`, after calling on_write_ with `project` when it is OK.
  grpc::Status Wrote(grpc::Status status, std::optional<int64_t> project) const;

  storage::TaskStore& store_;
  const TokenTable* const tokens_;
  const OnWrite on_write_;
  const Principal everyone_ = Principal::Unrestricted("anonymous");
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TASK_SERVICE_IMPL_H_
