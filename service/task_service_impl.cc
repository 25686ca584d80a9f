#include "service/task_service_impl.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/request_validation.h"
#include "service/status_util.h"
#include "storage/error_reason.h"
#include "storage/status_macros.h"

namespace tasks::service {
namespace {

using google::protobuf::Empty;
using google::protobuf::FieldMask;

// Work for a client that is gone is wasted: the store is not called for it.
absl::Status CheckCallAlive(grpc::ServerContext* context) {
  if (context->deadline() <= std::chrono::system_clock::now()) {
    return WithReason(absl::DeadlineExceededError("deadline exceeded"),
                      reason::kDeadlineExceeded);
  }
  if (context->IsCancelled()) {
    return absl::CancelledError("the client cancelled the call");
  }
  return absl::OkStatus();
}

// Runs `call` and sends its result: the value as the response, its status
// converted for gRPC.
template <typename Response, typename Call>
grpc::Status Respond(Response* response, Call call) {
  absl::StatusOr<Response> result = call();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

template <typename Call>
grpc::Status Respond(Empty* /*response*/, Call call) {
  return ToGrpcStatus(call());
}

v1::Project ProjectToCreate(const v1::Project& project) {
  v1::Project draft = project;
  draft.clear_id();
  draft.clear_create_time();
  draft.clear_update_time();
  return draft;
}

v1::Task TaskToCreate(const v1::Task& task) {
  v1::Task draft = task;
  draft.clear_id();
  draft.clear_create_time();
  draft.clear_update_time();
  draft.clear_etag();
  return draft;
}

}  // namespace

TaskServiceImpl::TaskServiceImpl(storage::TaskStore& store) : store_(store) {}

grpc::Status TaskServiceImpl::CreateProject(
    grpc::ServerContext* context, const v1::CreateProjectRequest* request,
    v1::Project* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Project> {
    RETURN_IF_ERROR(ValidateCreateProject(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.CreateProject(ProjectToCreate(request->project()));
  });
}

grpc::Status TaskServiceImpl::GetProject(grpc::ServerContext* context,
                                         const v1::GetProjectRequest* request,
                                         v1::Project* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Project> {
    RETURN_IF_ERROR(ValidateId(request->id(), "id"));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.GetProject(request->id());
  });
}

grpc::Status TaskServiceImpl::ListProjects(
    grpc::ServerContext* context, const v1::ListProjectsRequest* request,
    v1::ListProjectsResponse* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::ListProjectsResponse> {
    ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request->page_size()));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.ListProjects(page_size, request->page_token());
  });
}

grpc::Status TaskServiceImpl::UpdateProject(
    grpc::ServerContext* context, const v1::UpdateProjectRequest* request,
    v1::Project* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Project> {
    ASSIGN_OR_RETURN(FieldMask mask, ValidateUpdateProject(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.UpdateProject(request->project(), mask);
  });
}

grpc::Status TaskServiceImpl::DeleteProject(
    grpc::ServerContext* context, const v1::DeleteProjectRequest* request,
    Empty* response) {
  return Respond(response, [&]() -> absl::Status {
    RETURN_IF_ERROR(ValidateId(request->id(), "id"));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.DeleteProject(request->id(), /*cascade=*/request->force());
  });
}

grpc::Status TaskServiceImpl::CreateTask(grpc::ServerContext* context,
                                         const v1::CreateTaskRequest* request,
                                         v1::Task* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Task> {
    RETURN_IF_ERROR(ValidateCreateTask(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.CreateTask(TaskToCreate(request->task()),
                             request->request_id());
  });
}

grpc::Status TaskServiceImpl::BatchCreateTasks(
    grpc::ServerContext* context, const v1::BatchCreateTasksRequest* request,
    v1::BatchCreateTasksResponse* response) {
  return Respond(response,
                 [&]() -> absl::StatusOr<v1::BatchCreateTasksResponse> {
                   RETURN_IF_ERROR(ValidateBatchCreateTasks(*request));
                   RETURN_IF_ERROR(CheckCallAlive(context));
                   v1::BatchCreateTasksRequest drafts = *request;
                   for (v1::CreateTaskRequest& create :
                        *drafts.mutable_requests()) {
                     *create.mutable_task() = TaskToCreate(create.task());
                   }
                   return store_.BatchCreateTasks(drafts);
                 });
}

grpc::Status TaskServiceImpl::GetTask(grpc::ServerContext* context,
                                      const v1::GetTaskRequest* request,
                                      v1::Task* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Task> {
    RETURN_IF_ERROR(ValidateId(request->id(), "id"));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.GetTask(request->id());
  });
}

grpc::Status TaskServiceImpl::ListTasks(grpc::ServerContext* context,
                                        const v1::ListTasksRequest* request,
                                        v1::ListTasksResponse* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::ListTasksResponse> {
    ASSIGN_OR_RETURN(v1::ListTasksRequest resolved, ValidateListTasks(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.ListTasks(resolved);
  });
}

grpc::Status TaskServiceImpl::UpdateTask(grpc::ServerContext* context,
                                         const v1::UpdateTaskRequest* request,
                                         v1::Task* response) {
  return Respond(response, [&]() -> absl::StatusOr<v1::Task> {
    ASSIGN_OR_RETURN(FieldMask mask, ValidateUpdateTask(*request));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.UpdateTask(request->task(), mask);
  });
}

grpc::Status TaskServiceImpl::DeleteTask(grpc::ServerContext* context,
                                         const v1::DeleteTaskRequest* request,
                                         Empty* response) {
  return Respond(response, [&]() -> absl::Status {
    RETURN_IF_ERROR(ValidateId(request->id(), "id"));
    RETURN_IF_ERROR(CheckCallAlive(context));
    return store_.DeleteTask(request->id());
  });
}

}  // namespace tasks::service
