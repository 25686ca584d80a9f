#include "service/task_service_impl.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/list_rules.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "service/request_validation.h"
#include "service/status_util.h"
#include "storage/run_blocking.h"

namespace tasks::service {
namespace {

using google::protobuf::Empty;
using google::protobuf::FieldMask;
using ::tasks::api::ResolvePageSize;

// Work for a client whose deadline has passed is wasted: the store is not
// called for it. Only the deadline is checked: ServerContext::IsCancelled()
// polls the completion queue (a futex round trip) and cost about a fifth of
// the server's CPU; a cancelled call's reply is simply dropped by gRPC, and the
// store itself gives up at the deadline (common/call_deadline.h), or, for a
// list, as soon as the front learns that its client is gone
// (common/call_cancellation.h).
absl::Status CheckCallAlive(const grpc::ServerContext* context) {
  if (context->deadline() <= std::chrono::system_clock::now()) {
    return WithReason(absl::DeadlineExceededError("deadline exceeded"),
                      reason::kDeadlineExceeded);
  }
  return absl::OkStatus();
}

// How long a store call may take when the client allows longer (or sets no
// deadline): a stuck database must not hold a server thread for ever.
constexpr absl::Duration kMaxStoreCallTime = absl::Seconds(30);

// The deadline the store honours for this call (see common/call_deadline.h).
absl::Time StoreDeadline(const grpc::ServerContext* context) {
  return std::min(absl::FromChrono(context->deadline()),
                  absl::Now() + kMaxStoreCallTime);
}

// Runs `call` under the call's store deadline and sends its result: the
// value as the response, its status converted for gRPC.
template <typename Response, typename Call>
grpc::Status Respond(const grpc::ServerContext* context, Response* response,
                     Call call) {
  ScopedCallDeadline deadline(StoreDeadline(context));
  absl::StatusOr<Response> result = call();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

// Runs `call`, which writes the response itself and returns absl::Status,
// under the call's store deadline.
template <typename Call>
grpc::Status RespondInPlace(const grpc::ServerContext* context, Call call) {
  ScopedCallDeadline deadline(StoreDeadline(context));
  return ToGrpcStatus(call());
}

template <typename Call>
grpc::Status Respond(const grpc::ServerContext* context, Empty* /*response*/,
                     Call call) {
  return RespondInPlace(context, std::move(call));
}

v1::Project ProjectToCreate(const v1::Project& project) {
  v1::Project draft = project;
  draft.clear_id();
  draft.clear_create_time();
  draft.clear_update_time();
  return draft;
}

// The project a task is in (or goes to): `caller` may use it. A task without
// one belongs to everybody and nobody, so only an unrestricted caller may.
absl::Status CheckTaskProject(const Principal& caller, const v1::Task& task) {
  if (!task.has_project_id()) {
    return caller.CheckAllProjects("use tasks without a project");
  }
  return caller.CheckProject(task.project_id());
}

// The rows `caller` may reach.
storage::AccessScope ScopeOf(const Principal& caller) {
  if (caller.all_projects()) return storage::AccessScope::All();
  return storage::AccessScope::Projects(caller.project_ids());
}

bool MaskHas(const FieldMask& mask, absl::string_view path) {
  return std::find(mask.paths().begin(), mask.paths().end(), path) !=
         mask.paths().end();
}

// The store's callback for a TryXxxAsync call: its answer goes to `reply`
// as gRPC sends it (the status `on_task(task)` gives on success), or to
// `run_blocking` when the store gave the call up without effect.
template <typename OnTask>
storage::TaskStore::TaskCallback Answering(
    TaskServiceImpl::TaskReply reply, TaskServiceImpl::RunBlocking run_blocking,
    OnTask on_task) {
  return [reply = std::move(reply), run_blocking = std::move(run_blocking),
          on_task = std::move(on_task)](absl::StatusOr<v1::Task> task) mutable {
    if (storage::IsRunBlockingInstead(task.status())) {
      return std::move(run_blocking)();
    }
    if (!task.ok()) {
      return std::move(reply)(ToGrpcStatus(task.status()), v1::Task());
    }
    std::move(reply)(on_task(*task), *task);
  };
}

// Clears what the server sets on a task a client asks to create.
void ClearOutputOnly(v1::Task& task) {
  task.clear_id();
  task.clear_create_time();
  task.clear_update_time();
  task.clear_etag();
}

v1::Task TaskToCreate(const v1::Task& task) {
  v1::Task draft = task;
  ClearOutputOnly(draft);
  return draft;
}

}  // namespace

TaskServiceImpl::TaskServiceImpl(storage::TaskStore& store,
                                 const TokenTable* tokens, OnWrite on_write)
    : store_(store), tokens_(tokens), on_write_(std::move(on_write)) {}

grpc::Status TaskServiceImpl::Wrote(grpc::Status status,
                                    std::optional<int64_t> project) const {
  if (status.ok() && on_write_) on_write_(project);
  return status;
}

std::string TaskServiceImpl::ShareKey(grpc::ServerContext* context) const {
  if (tokens_ == nullptr) return "";
  absl::StatusOr<const Principal*> caller = Caller(context);
  // Not a principal's name (letters, digits, . _ @ -): such calls share one.
  return caller.ok() ? (*caller)->name() : "(unauthenticated)";
}

bool TaskServiceImpl::HasSeveralCallers() const {
  return tokens_ != nullptr && tokens_->principal_count() > 1;
}

absl::StatusOr<const Principal*> TaskServiceImpl::Caller(
    grpc::ServerContext* context) const {
  if (tokens_ == nullptr) return &everyone_;
  return tokens_->Authenticate(context->client_metadata());
}

storage::Idempotency TaskServiceImpl::IdempotencyOf(
    const Principal& caller) const {
  storage::Idempotency idempotency;
  // Each principal's request_ids are its own: nobody replays or squats
  // another's. Without auth every caller shares the one scope "".
  if (tokens_ != nullptr) idempotency.scope = caller.name();
  // The caller's projects, or the task's, may have changed since.
  idempotency.access = ScopeOf(caller);
  return idempotency;
}

grpc::Status TaskServiceImpl::CreateProject(
    grpc::ServerContext* context, const v1::CreateProjectRequest* request,
    v1::Project* response) {
  return Respond(context, response, [&]() -> absl::StatusOr<v1::Project> {
    ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
    RETURN_IF_ERROR(ValidateCreateProject(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    RETURN_IF_ERROR(caller->CheckAllProjects("create projects"));
    return store_.CreateProject(ProjectToCreate(request->project()));
  });
}

grpc::Status TaskServiceImpl::GetProject(grpc::ServerContext* context,
                                         const v1::GetProjectRequest* request,
                                         v1::Project* response) {
  return Respond(context, response, [&]() -> absl::StatusOr<v1::Project> {
    ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
    RETURN_IF_ERROR(ValidateId(request->id(), "id"));
    RETURN_IF_ERROR(CheckCallAlive(context));
    RETURN_IF_ERROR(caller->CheckProject(request->id()));
    return store_.GetProject(request->id());
  });
}

grpc::Status TaskServiceImpl::ListProjects(
    grpc::ServerContext* context, const v1::ListProjectsRequest* request,
    v1::ListProjectsResponse* response) {
  return Respond(
      context, response, [&]() -> absl::StatusOr<v1::ListProjectsResponse> {
        ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
        ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request->page_size()));
        RETURN_IF_ERROR(CheckCallAlive(context));
        return store_.ListProjects(page_size, request->page_token(),
                                   ScopeOf(*caller));
      });
}

grpc::Status TaskServiceImpl::UpdateProject(
    grpc::ServerContext* context, const v1::UpdateProjectRequest* request,
    v1::Project* response) {
  return Respond(context, response, [&]() -> absl::StatusOr<v1::Project> {
    ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
    ASSIGN_OR_RETURN(FieldMask mask, ValidateUpdateProject(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    RETURN_IF_ERROR(caller->CheckProject(request->project().id()));
    return store_.UpdateProject(request->project(), mask);
  });
}

grpc::Status TaskServiceImpl::DeleteProject(
    grpc::ServerContext* context, const v1::DeleteProjectRequest* request,
    Empty* response) {
  return Wrote(Respond(context, response,
                       [&]() -> absl::Status {
                         ASSIGN_OR_RETURN(const Principal* caller,
                                          Caller(context));
                         RETURN_IF_ERROR(ValidateId(request->id(), "id"));
                         RETURN_IF_ERROR(CheckCallAlive(context));
                         RETURN_IF_ERROR(caller->CheckProject(request->id()));
                         return store_.DeleteProject(
                             request->id(), /*cascade=*/request->force());
                       }),
               request->id());
}

grpc::Status TaskServiceImpl::CreateTask(grpc::ServerContext* context,
                                         const v1::CreateTaskRequest* request,
                                         v1::Task* response) {
  const grpc::Status status =
      Respond(context, response, [&]() -> absl::StatusOr<v1::Task> {
        ASSIGN_OR_RETURN(const Principal* caller,
                         CheckCreateTask(context, *request));
        return store_.CreateTask(TaskToCreate(request->task()),
                                 request->request_id(), IdempotencyOf(*caller));
      });
  return Wrote(status, response->project_id());
}

bool TaskServiceImpl::TryCreateTaskAsync(grpc::ServerContext* context,
                                         const v1::CreateTaskRequest* request,
                                         TaskReply reply,
                                         RunBlocking run_blocking) {
  absl::StatusOr<const Principal*> caller = CheckCreateTask(context, *request);
  if (!caller.ok()) {
    std::move(reply)(ToGrpcStatus(caller.status()), v1::Task());
    return true;
  }
  return store_.TryCreateTaskAsync(
      TaskToCreate(request->task()), request->request_id(),
      IdempotencyOf(**caller), StoreDeadline(context),
      Answering(std::move(reply), std::move(run_blocking),
                [this](const v1::Task& task) {
                  return Wrote(grpc::Status::OK, task.project_id());
                }));
}

absl::StatusOr<const Principal*> TaskServiceImpl::CheckCreateTask(
    grpc::ServerContext* context, const v1::CreateTaskRequest& request) const {
  ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
  RETURN_IF_ERROR(ValidateCreateTask(request));
  RETURN_IF_ERROR(CheckCallAlive(context));
  RETURN_IF_ERROR(CheckTaskProject(*caller, request.task()));
  return caller;
}

grpc::Status TaskServiceImpl::BatchCreateTasks(
    grpc::ServerContext* context, const v1::BatchCreateTasksRequest* request,
    v1::BatchCreateTasksResponse* response) {
  const grpc::Status status = Respond(
      context, response, [&]() -> absl::StatusOr<v1::BatchCreateTasksResponse> {
        ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
        RETURN_IF_ERROR(ValidateBatchCreateTasks(*request));
        RETURN_IF_ERROR(CheckCallAlive(context));
        // One copy of the batch (up to ~3 MB), its tasks cleared in place.
        v1::BatchCreateTasksRequest drafts = *request;
        for (v1::CreateTaskRequest& create : *drafts.mutable_requests()) {
          RETURN_IF_ERROR(CheckTaskProject(*caller, create.task()));
          ClearOutputOnly(*create.mutable_task());
        }
        return store_.BatchCreateTasks(drafts, IdempotencyOf(*caller));
      });
  if (!status.ok() || !on_write_) return status;
  absl::flat_hash_set<int64_t> projects;
  for (const v1::Task& task : response->tasks()) {
    if (projects.insert(task.project_id()).second) on_write_(task.project_id());
  }
  return status;
}

grpc::Status TaskServiceImpl::GetTask(grpc::ServerContext* context,
                                      const v1::GetTaskRequest* request,
                                      v1::Task* response) {
  return Respond(context, response, [&]() -> absl::StatusOr<v1::Task> {
    ASSIGN_OR_RETURN(storage::AccessScope scope,
                     CheckGetTask(context, *request));
    return store_.GetTask(request->id(), scope);
  });
}

absl::StatusOr<storage::AccessScope> TaskServiceImpl::CheckGetTask(
    grpc::ServerContext* context, const v1::GetTaskRequest& request) const {
  ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
  RETURN_IF_ERROR(ValidateId(request.id(), "id"));
  RETURN_IF_ERROR(CheckCallAlive(context));
  return ScopeOf(*caller);
}

bool TaskServiceImpl::TryGetTaskAsync(grpc::ServerContext* context,
                                      const v1::GetTaskRequest* request,
                                      TaskReply reply,
                                      RunBlocking run_blocking) {
  absl::StatusOr<storage::AccessScope> scope = CheckGetTask(context, *request);
  if (!scope.ok()) {
    std::move(reply)(ToGrpcStatus(scope.status()), v1::Task());
    return true;
  }
  return store_.TryGetTaskAsync(
      request->id(), *scope, StoreDeadline(context),
      Answering(std::move(reply), std::move(run_blocking),
                [](const v1::Task&) { return grpc::Status::OK; }));
}

grpc::Status TaskServiceImpl::PrecheckListTasks(
    const v1::ListTasksRequest& request) {
  return ToGrpcStatus(ValidateListTasks(request).status());
}

grpc::Status TaskServiceImpl::PrecheckBatchCreateTasks(
    const v1::BatchCreateTasksRequest& request) {
  return ToGrpcStatus(ValidateBatchCreateTasks(request));
}

grpc::Status TaskServiceImpl::ListTasks(grpc::ServerContext* context,
                                        const v1::ListTasksRequest* request,
                                        v1::ListTasksResponse* response) {
  // Built in place: the server may keep `response` on the call's arena.
  return RespondInPlace(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
    ASSIGN_OR_RETURN(v1::ListTasksRequest resolved,
                     ValidateListTasks(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    if (resolved.has_project_id()) {
      RETURN_IF_ERROR(caller->CheckProject(resolved.project_id()));
    }
    return store_.ListTasks(resolved, ScopeOf(*caller), *response);
  });
}

grpc::Status TaskServiceImpl::UpdateTask(grpc::ServerContext* context,
                                         const v1::UpdateTaskRequest* request,
                                         v1::Task* response) {
  const grpc::Status status =
      Respond(context, response, [&]() -> absl::StatusOr<v1::Task> {
        ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
        ASSIGN_OR_RETURN(FieldMask mask, ValidateUpdateTask(*request));
        RETURN_IF_ERROR(CheckCallAlive(context));
        // The target project is checked here for a message that names it; the
        // store pins the task to the caller's projects in the update itself.
        if (MaskHas(mask, "project_id")) {
          RETURN_IF_ERROR(CheckTaskProject(*caller, request->task()));
        }
        return store_.UpdateTask(request->task(), mask, ScopeOf(*caller));
      });
  return Wrote(status, response->project_id());
}

grpc::Status TaskServiceImpl::DeleteTask(grpc::ServerContext* context,
                                         const v1::DeleteTaskRequest* request,
                                         Empty* response) {
  return Wrote(
      Respond(context, response,
              [&]() -> absl::Status {
                ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
                RETURN_IF_ERROR(ValidateId(request->id(), "id"));
                RETURN_IF_ERROR(CheckCallAlive(context));
                return store_.DeleteTask(request->id(), ScopeOf(*caller));
              }),
      std::nullopt);
}

absl::StatusOr<TaskServiceImpl::WatchPlan> TaskServiceImpl::PrepareWatch(
    grpc::ServerContext* context, const v1::WatchTasksRequest& request) const {
  ASSIGN_OR_RETURN(const Principal* caller, Caller(context));
  ASSIGN_OR_RETURN(WatchTasksArguments arguments, ValidateWatchTasks(request));
  WatchPlan plan;
  if (tokens_ != nullptr) plan.principal = caller->name();
  plan.filter = std::move(arguments.filter);
  plan.scope = ScopeOf(*caller);
  plan.resume = std::move(arguments.resume);
  return plan;
}

}  // namespace tasks::service
