#ifndef TASKS_SERVICE_TASK_SERVICE_IMPL_H_
#define TASKS_SERVICE_TASK_SERVICE_IMPL_H_

#include <grpcpp/grpcpp.h>

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
// A call whose client deadline has already passed, or that the client has
// cancelled, gets DEADLINE_EXCEEDED / CANCELLED without reaching the store.
//
// Example:
//   TaskServiceImpl service(store);
//   grpc::ServerBuilder builder;
//   builder.RegisterService(&service);
class TaskServiceImpl final : public v1::TaskService::Service {
 public:
  // `store` must outlive the service.
  explicit TaskServiceImpl(storage::TaskStore& store);

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
  grpc::Status BatchCreateTasks(grpc::ServerContext* context,
                                const v1::BatchCreateTasksRequest* request,
                                v1::BatchCreateTasksResponse* response) override;
  grpc::Status GetTask(grpc::ServerContext* context,
                       const v1::GetTaskRequest* request,
                       v1::Task* response) override;
  grpc::Status ListTasks(grpc::ServerContext* context,
                         const v1::ListTasksRequest* request,
                         v1::ListTasksResponse* response) override;
  grpc::Status UpdateTask(grpc::ServerContext* context,
                          const v1::UpdateTaskRequest* request,
                          v1::Task* response) override;
  grpc::Status DeleteTask(grpc::ServerContext* context,
                          const v1::DeleteTaskRequest* request,
                          google::protobuf::Empty* response) override;

 private:
  storage::TaskStore& store_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TASK_SERVICE_IMPL_H_
