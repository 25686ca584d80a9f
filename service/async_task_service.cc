#include "service/async_task_service.h"

#include <utility>

#include "absl/status/status.h"
#include "service/completion_queue_tag.h"
#include "service/status_util.h"
#include "service/worker_pool.h"
#include "storage/error_reason.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::service {
namespace async_internal {

struct FrontState {
  FrontState(TaskServiceImpl& service, int max_workers, bool reads_inline)
      : service(service), workers(max_workers), reads_inline(reads_inline) {}

  TaskServiceImpl& service;
  v1::TaskService::AsyncService async_service;
  WorkerPool workers;
  const bool reads_inline;
};

}  // namespace async_internal
namespace {

using async_internal::FrontState;
using AsyncService = v1::TaskService::AsyncService;

// How many calls of each method each completion queue is ready to receive
// at once; more arriving together wait inside gRPC for the next request.
constexpr int kRequestsPerMethod = 8;

enum class Access { kRead, kWrite };

// One unary method: how to ask gRPC for its next call, and which
// TaskServiceImpl method answers it.
template <typename Request, typename Response>
struct UnaryMethod {
  using RequestFn = void (AsyncService::*)(
      grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
      grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  using HandleFn = grpc::Status (TaskServiceImpl::*)(grpc::ServerContext*,
                                                      const Request*,
                                                      Response*);
  RequestFn request;
  HandleFn handle;
  Access access;
};

// One call: waits for it, answers it, deletes itself once the answer is
// sent; on arrival it first asks for the method's next call.
template <typename Request, typename Response>
class UnaryCall final : public CompletionQueueTag {
 public:
  using Method = UnaryMethod<Request, Response>;

  // Asks gRPC for the next call of `method` on `queue`.
  static void Await(FrontState& state, const Method& method,
                    grpc::ServerCompletionQueue& queue) {
    auto* call = new UnaryCall(state, method, queue);
    (state.async_service.*method.request)(&call->context_, &call->request_,
                                          &call->writer_, &queue, &queue,
                                          call);
  }

  void Proceed(bool ok) override {
    if (!ok || answered_) {  // The server shut down, or the answer is sent.
      delete this;
      return;
    }
    answered_ = true;
    // Once the server shuts down, this request fails at once (not ok).
    Await(state_, method_, queue_);
    if (method_.access == Access::kRead && state_.reads_inline) {
      Answer();
    } else if (!state_.workers.TrySubmit([this] { Answer(); })) {
      writer_.FinishWithError(
          ToGrpcStatus(WithReason(
              absl::ResourceExhaustedError(
                  "the server is busy: every worker thread is in use; retry "
                  "with backoff"),
              reason::kResourceExhausted)),
          this);
    }
  }

 private:
  UnaryCall(FrontState& state, const Method& method,
            grpc::ServerCompletionQueue& queue)
      : state_(state), method_(method), queue_(queue), writer_(&context_) {}

  void Answer() {
    Response response;
    const grpc::Status status =
        (state_.service.*method_.handle)(&context_, &request_, &response);
    if (status.ok()) {
      writer_.Finish(response, status, this);
    } else {
      writer_.FinishWithError(status, this);
    }
  }

  FrontState& state_;
  const Method& method_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool answered_ = false;
};

template <typename Request, typename Response>
void AwaitCalls(FrontState& state, const UnaryMethod<Request, Response>& method,
                grpc::ServerCompletionQueue& queue) {
  for (int i = 0; i < kRequestsPerMethod; ++i) {
    UnaryCall<Request, Response>::Await(state, method, queue);
  }
}

// Static: call objects keep references to their method.
const UnaryMethod<v1::CreateProjectRequest, v1::Project> kCreateProject{
    &AsyncService::RequestCreateProject, &TaskServiceImpl::CreateProject,
    Access::kWrite};
const UnaryMethod<v1::GetProjectRequest, v1::Project> kGetProject{
    &AsyncService::RequestGetProject, &TaskServiceImpl::GetProject,
    Access::kRead};
const UnaryMethod<v1::ListProjectsRequest, v1::ListProjectsResponse>
    kListProjects{&AsyncService::RequestListProjects,
                  &TaskServiceImpl::ListProjects, Access::kRead};
const UnaryMethod<v1::UpdateProjectRequest, v1::Project> kUpdateProject{
    &AsyncService::RequestUpdateProject, &TaskServiceImpl::UpdateProject,
    Access::kWrite};
const UnaryMethod<v1::DeleteProjectRequest, google::protobuf::Empty>
    kDeleteProject{&AsyncService::RequestDeleteProject,
                   &TaskServiceImpl::DeleteProject, Access::kWrite};
const UnaryMethod<v1::CreateTaskRequest, v1::Task> kCreateTask{
    &AsyncService::RequestCreateTask, &TaskServiceImpl::CreateTask,
    Access::kWrite};
const UnaryMethod<v1::BatchCreateTasksRequest, v1::BatchCreateTasksResponse>
    kBatchCreateTasks{&AsyncService::RequestBatchCreateTasks,
                      &TaskServiceImpl::BatchCreateTasks, Access::kWrite};
const UnaryMethod<v1::GetTaskRequest, v1::Task> kGetTask{
    &AsyncService::RequestGetTask, &TaskServiceImpl::GetTask,
    Access::kRead};
const UnaryMethod<v1::ListTasksRequest, v1::ListTasksResponse> kListTasks{
    &AsyncService::RequestListTasks, &TaskServiceImpl::ListTasks,
    Access::kRead};
const UnaryMethod<v1::UpdateTaskRequest, v1::Task> kUpdateTask{
    &AsyncService::RequestUpdateTask, &TaskServiceImpl::UpdateTask,
    Access::kWrite};
const UnaryMethod<v1::DeleteTaskRequest, google::protobuf::Empty> kDeleteTask{
    &AsyncService::RequestDeleteTask, &TaskServiceImpl::DeleteTask,
    Access::kWrite};

void AwaitEveryMethod(FrontState& state, grpc::ServerCompletionQueue& queue) {
  AwaitCalls(state, kCreateProject, queue);
  AwaitCalls(state, kGetProject, queue);
  AwaitCalls(state, kListProjects, queue);
  AwaitCalls(state, kUpdateProject, queue);
  AwaitCalls(state, kDeleteProject, queue);
  AwaitCalls(state, kCreateTask, queue);
  AwaitCalls(state, kBatchCreateTasks, queue);
  AwaitCalls(state, kGetTask, queue);
  AwaitCalls(state, kListTasks, queue);
  AwaitCalls(state, kUpdateTask, queue);
  AwaitCalls(state, kDeleteTask, queue);
}

}  // namespace

AsyncTaskService::AsyncTaskService(TaskServiceImpl& service,
                                   HealthService& health, Options options)
    : state_(std::make_unique<FrontState>(service, options.max_workers,
                                          options.reads_on_queue_threads)),
      health_(health),
      completion_queue_count_(options.completion_queues) {}

AsyncTaskService::~AsyncTaskService() { Stop(); }

void AsyncTaskService::AddTo(grpc::ServerBuilder& builder) {
  builder.RegisterService(&state_->async_service);
  builder.RegisterService(&health_.async_service());
  for (int i = 0; i < completion_queue_count_; ++i) {
    queues_.push_back(builder.AddCompletionQueue());
  }
}

void AsyncTaskService::Start() {
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    AwaitEveryMethod(*state_, *queue);
    health_.AwaitCalls(*queue);
    threads_.emplace_back([&queue] { ProceedUntilShutdown(*queue); });
  }
}

void AsyncTaskService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Work still running answers on its queue: it must end first.
  state_->workers.Stop();
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    queue->Shutdown();
  }
  for (std::thread& thread : threads_) thread.join();
  if (threads_.empty()) {  // Never started: the queues are drained here.
    for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
      ProceedUntilShutdown(*queue);
    }
  }
}

}  // namespace tasks::service
