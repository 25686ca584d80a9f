#include "service/async_task_service.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/call_cancellation.h"
#include "common/error_reason.h"
#include "google/protobuf/arena.h"
#include "service/async_unary_call.h"
#include "service/completion_queue_tag.h"
#include "service/concurrency_limit.h"
#include "service/received_requests.h"
#include "service/server_metrics.h"
#include "service/status_util.h"
#include "service/worker_pool.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::service {
namespace async_internal {

// How many calls of each method each completion queue is ready to receive
// at once; more arriving together wait inside gRPC for the next request.
constexpr int kRequestsPerMethod = 8;

// Responses their handler writes in place (see TaskServiceImpl::ListTasks).
template <typename Response>
constexpr bool kBuiltInPlace = std::is_same_v<Response, v1::ListTasksResponse>;

// Where a method's calls run (see AsyncTaskService).
enum class Access {
  kPointRead,   // one row by id: on the queue thread when reads are inline
  kScan,        // a list, which may read the whole table: on a worker
  kWrite,       // waits for a durable commit: on a worker
  kBatchWrite,  // a write of many rows, each with its metadata: on a worker
};

// A method whose calls can be awaited on a queue, whatever its types.
class AwaitedMethod {
 public:
  virtual ~AwaitedMethod() = default;
  virtual void AwaitCalls(grpc::ServerCompletionQueue& queue) const = 0;
};

struct FrontState {
  FrontState(TaskServiceImpl& service, int max_workers, int max_lists,
             bool reads_inline, ServerMetrics* metrics, ChangeFeed* feed,
             TaskWatchers::Options watch_options,
             ReplyBacklog::Limits unread_reply_limits);

  TaskServiceImpl& service;
  ReceivedRequests<v1::TaskService> async_service;
  WorkerPool workers;
  ConcurrencyLimit lists;    // list calls running in the store
  ConcurrencyLimit batches;  // batch writes running in the store
  ReplyBacklog unread_replies;
  const bool reads_inline;
  ServerMetrics* const metrics;
  std::vector<std::unique_ptr<AwaitedMethod>> methods;
  ChangeFeed* const feed;
  std::unique_ptr<TaskWatchers> watchers;  // null without a feed
  std::shared_ptr<void> workers_watched;   // by `metrics`, while this lives
  std::shared_ptr<void> replies_watched;   // likewise
  std::shared_ptr<void> lists_watched;     // likewise
  std::shared_ptr<void> batches_watched;   // likewise

  // Calls handed to the store to answer on its own thread (see
  // TaskStore::TryGetTaskAsync): counted so that Stop waits for them, and
  // writes among them bounded as the workers bound theirs. A create holds its
  // parsed request until its commit (up to ~250 KB: 40 KB of description,
  // metadata that parses into 200 KB of Struct), and the store would take
  // thousands.
  bool AsyncStarted(bool write) {
    if (write && async_writes.fetch_add(1, std::memory_order_relaxed) >=
                     max_async_writes) {
      async_writes.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    async_calls.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void AsyncEnded(bool write) {
    if (write) async_writes.fetch_sub(1, std::memory_order_relaxed);
    async_calls.fetch_sub(1, std::memory_order_release);
  }
  // Only at Stop, when no call starts any more: a short poll will do.
  void AwaitAsyncCalls() const {
    while (async_calls.load(std::memory_order_acquire) > 0) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  const int max_async_writes;
  std::atomic<int> async_calls{0};
  std::atomic<int> async_writes{0};
  // TaskService unary calls arrived and not yet freed.
  std::atomic<int> live_calls{0};
};

namespace {

// The most of the places to wait for a list or batch slot (and of the
// batches' bytes) one caller takes: a quarter. (The worker threads are
// shared by what is still free: WorkerPool.)
constexpr int kShares = 4;

int SharesFor(const TaskServiceImpl& service) {
  return service.HasSeveralCallers() ? kShares : 1;
}

// Longest a list or batch call waits for a slot, when its client allows
// longer: as long as the store would let it run.
constexpr absl::Duration kMaxSlotWait = absl::Seconds(30);

// Most bytes of parsed requests the batches waiting for a slot hold in all:
// one within the caps holds up to ~3 MB (~2 MB of metadata, at most
// api::kMaxBatchMetadataValues values, and 1 MiB of text), so about five of
// the heaviest wait, and many more small ones.
constexpr int64_t kMaxWaitingBatchBytes = 16 << 20;

grpc::Status Busy(absl::string_view what) {
  return ToGrpcStatus(WithReason(
      absl::ResourceExhaustedError(absl::StrCat("the server is busy: ", what,
                                                " in use; retry with backoff")),
      reason::kResourceExhausted));
}

// What a list or batch call is refused for on the queue thread, before it
// waits for a worker and a slot holding its parsed request: one the handler
// would refuse must not (a metadata_value of 250,000 nulls, ~1 MB on the
// wire, parses into ~15 MB; a 1 MiB batch of the heaviest metadata, ~50 MB).
grpc::Status Precheck(const v1::ListTasksRequest& request) {
  return TaskServiceImpl::PrecheckListTasks(request);
}
grpc::Status Precheck(const v1::BatchCreateTasksRequest& request) {
  return TaskServiceImpl::PrecheckBatchCreateTasks(request);
}

// What a call holds while it waits for a slot: a list's request is small,
// a batch's up to ~3 MB once parsed.
int64_t WaitingWeight(const v1::BatchCreateTasksRequest& request) {
  return static_cast<int64_t>(request.SpaceUsedLong());
}
template <typename Request>
int64_t WaitingWeight(const Request& /*request*/) {
  return 1;
}

template <typename Request>
grpc::Status Precheck(const Request& /*request*/) {
  return grpc::Status::OK;
}

// One TaskService method: its calls are answered by the TaskServiceImpl
// method of the same name, on the queue thread or on a worker.
template <typename Request, typename Response>
class TaskMethod final : public UnaryMethod<Request, Response>,
                         public AwaitedMethod {
 public:
  using HandleFn = grpc::Status (TaskServiceImpl::*)(grpc::ServerContext*,
                                                     const Request*, Response*);
  // The handler's variant that answers on a store thread, or declines.
  using Reply =
      absl::AnyInvocable<void(const grpc::Status&, const Response&) &&>;
  using TryAsyncFn = bool (TaskServiceImpl::*)(grpc::ServerContext*,
                                               const Request*, Reply,
                                               TaskServiceImpl::RunBlocking);
  using Call = AsyncUnaryCall<Request, Response>;

  TaskMethod(FrontState& state, absl::string_view name, HandleFn handle,
             Access access, TryAsyncFn try_async)
      : state_(state),
        index_(ReceivedRequests<v1::TaskService>::MethodIndex(name)),
        handle_(handle),
        try_async_(try_async),
        access_(access),
        full_name_(
            absl::StrCat("/", v1::TaskService::service_full_name(), "/", name)),
        metrics_(state.metrics == nullptr
                     ? nullptr
                     : &state.metrics->ForMethod(
                           v1::TaskService::service_full_name(), name)) {}

  absl::string_view full_name() const override { return full_name_; }
  MethodMetrics* metrics() const override { return metrics_; }
  ReplyBacklog* reply_backlog() const override {
    return &state_.unread_replies;
  }
  bool is_read() const override {
    return access_ == Access::kPointRead || access_ == Access::kScan;
  }
  // A list may scan for seconds: one whose client is gone stops waiting for
  // a slot, and its statement is stopped as at its deadline.
  bool watches_cancellation() const override {
    return access_ == Access::kScan;
  }
  std::atomic<int>* live_calls() const override { return &state_.live_calls; }

  void AwaitCalls(grpc::ServerCompletionQueue& queue) const override {
    for (int i = 0; i < kRequestsPerMethod; ++i) Call::Await(*this, queue);
  }

  void RequestCall(grpc::ServerContext* context, grpc::ByteBuffer* request,
                   grpc::ServerAsyncResponseWriter<Response>* writer,
                   grpc::ServerCompletionQueue& queue,
                   void* tag) const override {
    state_.async_service.RequestUnary(index_, context, request, writer, &queue,
                                      tag);
  }

  void OnCall(Call& call) const override {
    if (access_ == Access::kScan || access_ == Access::kBatchWrite) {
      // On the queue thread that parsed it: a request over the caps is
      // answered at once, not held while it waits for a worker and a slot.
      if (grpc::Status refused = Precheck(call.request()); !refused.ok()) {
        return call.Finish(refused, Response());
      }
    }
    if (access_ == Access::kPointRead && state_.reads_inline) {
      Answer(call);
    } else if (TryAsync(call)) {
      return;
    } else {
      OnWorker(call);
    }
  }

  void OnWorker(Call& call) const {
    switch (state_.workers.Submit(
        [this, &call] { Answer(call); },
        [&] { return state_.service.ShareKey(&call.context()); })) {
      case WorkerPool::kRunning:
        return;
      case WorkerPool::kOverShare:
        return call.Finish(Busy("this caller's share of the worker threads is"),
                           Response());
      case WorkerPool::kAllBusy:
        return call.Finish(Busy("every worker thread is"), Response());
    }
  }

 private:
  // Hands the call to the store to answer on its own thread, when it can.
  // Only a store that waits on a database server has such a path: with
  // reads inline (SQLite) the call is not checked twice for nothing.
  bool TryAsync(Call& call) const {
    if (try_async_ == nullptr || state_.reads_inline) return false;
    const bool write = access_ == Access::kWrite;
    if (!state_.AsyncStarted(write)) return false;
    const bool taken = (state_.service.*try_async_)(
        &call.context(), &call.request(),
        [this, &call, write](const grpc::Status& status,
                             const Response& response) {
          call.Finish(status, response);
          state_.AsyncEnded(write);
        },
        [this, &call, write] {
          OnWorker(call);
          state_.AsyncEnded(write);
        });
    if (!taken) state_.AsyncEnded(write);
    return taken;
  }

  // Lists and batch writes, whose memory grows with their rows, run a few
  // at a time (--max_concurrent_lists of each); the others at once.
  void Answer(Call& call) const {
    if (access_ != Access::kScan && access_ != Access::kBatchWrite) {
      return Run(call);
    }
    const absl::Time deadline =
        std::min(absl::FromChrono(call.context().deadline()),
                 absl::Now() + kMaxSlotWait);
    const bool list = access_ == Access::kScan;
    ConcurrencyLimit::Slot slot(
        list ? state_.lists : state_.batches, deadline,
        WaitingWeight(call.request()),
        [&] { return state_.service.ShareKey(&call.context()); },
        &call.cancellation());
    if (slot.cancelled()) {
      return call.Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                      "the call's client cancelled it while "
                                      "it waited for a list slot"),
                         Response());
    }
    if (!slot.held()) {
      const char* kind = list ? "list" : "batch";
      return call.Finish(
          Busy(slot.over_share()
                   ? absl::StrCat("this caller's share of the places to wait "
                                  "for a ",
                                  kind, " slot is")
                   : absl::StrCat("every ", kind,
                                  " slot (--max_concurrent_lists) is")),
          Response());
    }
    Run(call);
  }

  // A response its handler builds in place lives on an arena: a list
  // page's hundreds of messages and metadata maps take a few blocks instead
  // of an allocation and a free each. (Any other would be copied onto it
  // from the heap.) Finish serializes it before Run returns.
  void Run(Call& call) const {
    if constexpr (kBuiltInPlace<Response>) {
      google::protobuf::Arena arena;
      RunInto(call, *google::protobuf::Arena::CreateMessage<Response>(&arena));
    } else {
      Response response;
      RunInto(call, response);
    }
  }

  void RunInto(Call& call, Response& response) const {
    ScopedCallCancellation cancellation(
        watches_cancellation() ? &call.cancellation() : nullptr);
    const grpc::Status status =
        (state_.service.*handle_)(&call.context(), &call.request(), &response);
    call.Finish(status, response);
  }

  FrontState& state_;
  const int index_;  // in TaskService
  const HandleFn handle_;
  const TryAsyncFn try_async_;  // null: always on a thread of the server's
  const Access access_;
  const std::string full_name_;
  MethodMetrics* const metrics_;
};

template <typename Request, typename Response>
std::unique_ptr<AwaitedMethod> MakeMethod(
    FrontState& state, absl::string_view name,
    grpc::Status (TaskServiceImpl::*handle)(grpc::ServerContext*,
                                            const Request*, Response*),
    Access access,
    typename TaskMethod<Request, Response>::TryAsyncFn try_async = nullptr) {
  return std::make_unique<TaskMethod<Request, Response>>(state, name, handle,
                                                         access, try_async);
}

}  // namespace

FrontState::FrontState(TaskServiceImpl& service, int max_workers, int max_lists,
                       bool reads_inline, ServerMetrics* metrics,
                       ChangeFeed* feed, TaskWatchers::Options watch_options,
                       ReplyBacklog::Limits unread_reply_limits)
    : service(service),
      // Shared per caller once half of them are in use.
      workers(max_workers, /*per_caller=*/service.HasSeveralCallers()),
      // Lists waiting for a slot hold workers: at most half of them, so that
      // writes always find some; per caller a quarter of those, and half of
      // those still free.
      lists(max_lists, std::max(1, max_workers / 2), INT64_MAX,
            SharesFor(service)),
      // And batches a quarter: waiting lists and batches together leave a
      // quarter of the workers to writes.
      batches(max_lists, std::max(1, max_workers / 4), kMaxWaitingBatchBytes,
              SharesFor(service)),
      unread_replies(unread_reply_limits),
      reads_inline(reads_inline),
      metrics(metrics),
      feed(feed),
      max_async_writes(max_workers) {
  // Each method's name and its TaskServiceImpl handler, named once.
#define TASKS_ADD_METHOD(name, access) \
  methods.push_back(                   \
      MakeMethod(*this, #name, &TaskServiceImpl::name, Access::access))
  // One whose store may answer on a thread of its own: TryXxxAsync.
#define TASKS_ADD_METHOD_TRYING_ASYNC(name, access)                  \
  methods.push_back(MakeMethod(*this, #name, &TaskServiceImpl::name, \
                               Access::access,                       \
                               &TaskServiceImpl::Try##name##Async))
  TASKS_ADD_METHOD(CreateProject, kWrite);
  TASKS_ADD_METHOD(GetProject, kPointRead);
  TASKS_ADD_METHOD(ListProjects, kScan);
  TASKS_ADD_METHOD(UpdateProject, kWrite);
  TASKS_ADD_METHOD(DeleteProject, kWrite);
  TASKS_ADD_METHOD_TRYING_ASYNC(CreateTask, kWrite);
  TASKS_ADD_METHOD(BatchCreateTasks, kBatchWrite);
  TASKS_ADD_METHOD_TRYING_ASYNC(GetTask, kPointRead);
  TASKS_ADD_METHOD(ListTasks, kScan);
  TASKS_ADD_METHOD(UpdateTask, kWrite);
  TASKS_ADD_METHOD(DeleteTask, kWrite);
#undef TASKS_ADD_METHOD
#undef TASKS_ADD_METHOD_TRYING_ASYNC
  // The one streaming method.
  if (feed != nullptr) {
    watchers = std::make_unique<TaskWatchers>(async_service, service, *feed,
                                              workers, watch_options, metrics);
  }
  if (metrics != nullptr) {
    workers_watched = metrics->WatchWorkerPool(workers);
    replies_watched = metrics->WatchReplyBacklog(unread_replies);
    lists_watched = metrics->WatchSlots("list", lists);
    batches_watched = metrics->WatchSlots("batch", batches);
  }
}

}  // namespace async_internal

using async_internal::FrontState;

AsyncTaskService::AsyncTaskService(TaskServiceImpl& service,
                                   HealthService& health, Options options)
    : state_(std::make_unique<FrontState>(
          service, options.max_workers, options.max_concurrent_lists,
          options.reads_on_queue_threads, options.metrics, options.feed,
          options.watchers, options.unread_replies)),
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
  if (state_->watchers != nullptr) {
    state_->feed->Start(
        [watchers = state_->watchers.get()](const ChangeFeed::Batch& batch) {
          watchers->Wake(batch);
        });
  }
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    for (const auto& method : state_->methods) method->AwaitCalls(*queue);
    if (state_->watchers != nullptr) state_->watchers->AwaitCalls(*queue);
    health_.AwaitCalls(*queue);
    threads_.emplace_back([&queue] { ProceedUntilShutdown(*queue); });
  }
}

void AsyncTaskService::ShutdownWatchers(absl::Duration grace) {
  if (state_->watchers != nullptr) state_->watchers->Shutdown(grace);
}

namespace {

// One queue's marker (see MarkQueues): frees itself once taken up, or once
// its alarm is cancelled as the queue shuts down.
class QueueMarker final : public CompletionQueueTag {
 public:
  static void Queue(grpc::ServerCompletionQueue& queue,
                    std::shared_ptr<std::atomic<int>> unreached) {
    auto* marker = new QueueMarker(std::move(unreached));
    marker->alarm_.Set(&queue, std::chrono::system_clock::now(), marker);
  }

  void Proceed(bool /*ok*/) override {
    unreached_->fetch_sub(1, std::memory_order_release);
    delete this;
  }

 private:
  explicit QueueMarker(std::shared_ptr<std::atomic<int>> unreached)
      : unreached_(std::move(unreached)) {}

  const std::shared_ptr<std::atomic<int>> unreached_;
  grpc::Alarm alarm_;
};

}  // namespace

std::shared_ptr<const std::atomic<int>> AsyncTaskService::MarkQueues() {
  auto unreached =
      std::make_shared<std::atomic<int>>(static_cast<int>(queues_.size()));
  for (const std::unique_ptr<grpc::ServerCompletionQueue>& queue : queues_) {
    QueueMarker::Queue(*queue, unreached);
  }
  return unreached;
}

int AsyncTaskService::live_calls() const {
  return state_->live_calls.load(std::memory_order_acquire);
}

TaskWatchers::Stats AsyncTaskService::watcher_stats() const {
  return state_->watchers != nullptr ? state_->watchers->stats()
                                     : TaskWatchers::Stats();
}

void AsyncTaskService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Its listener wakes the streams; its store calls end within its timeout.
  if (state_->feed != nullptr) state_->feed->Stop();
  // Work still running answers on its queue: it must end first.
  // Async calls first: one the store gives up on still needs a worker.
  state_->AwaitAsyncCalls();
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
