#ifndef TASKS_SERVICE_ASYNC_TASK_SERVICE_H_
#define TASKS_SERVICE_ASYNC_TASK_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "service/change_feed.h"
#include "service/health_service.h"
#include "service/reply_backlog.h"
#include "service/server_metrics.h"
#include "service/task_service_impl.h"
#include "service/task_watchers.h"

namespace tasks::service {
namespace async_internal {
struct FrontState;
}  // namespace async_internal

// AsyncTaskService
//
// Serves TaskServiceImpl's methods, and the HealthService, through gRPC's
// async completion-queue API rather than its sync thread pool: on a small
// machine the hand-offs between polling and worker threads cost more than a
// read's own work. Each completion queue has one thread, which also does the
// network work of its calls.
//   - Point reads (GetTask, GetProject) run on the queue thread that
//     received them when `reads_on_queue_threads` (a store whose reads never
//     wait on a network or a lock, like SQLite in WAL mode): no hand-off at
//     all. Otherwise (a database server) GetTask and CreateTask are first
//     offered to the store's asynchronous path (TaskServiceImpl's
//     TryXxxAsync: the store answers on a thread of its own, and Stop()
//     waits for those answers), and run on the workers when it declines.
//     At most `max_workers` writes wait there at once, as on the workers:
//     each holds its request until its commit.
//   - Lists (ListTasks, ListProjects) always run on the workers: a filtered
//     list may scan the whole table for seconds, and on a queue thread it
//     would hold up every call of that queue, health checks included. One
//     whose client is gone stops: it leaves its slot or its wait for one,
//     and its store call stops as at its deadline (CallCancellation).
//   - Writes, which wait for a durable commit, run on a WorkerPool of up to
//     `max_workers` threads, so that many wait at once (and a SQLite store
//     commits them in groups). A call finding every worker busy gets
//     RESOURCE_EXHAUSTED at once, reason RESOURCE_EXHAUSTED. Batch creates
//     take slots of their own, `max_concurrent_lists` of them, as lists do.
//   - Lists and batch creates are validated on the queue thread that parsed
//     them: one over the caps is answered there, never waits.
//   - A TaskService call on a connection over its budget of unread replies
//     is refused before it runs (ReplyBacklog).
//   - WatchTasks streams are served by TaskWatchers over the ChangeFeed
//     given in the options, which Start() starts and Stop() stops.
// Server interceptors see these calls as they see sync ones.
//
// Example:
//   AsyncTaskService front(service, health, AsyncTaskService::Options());
//   grpc::ServerBuilder builder;
//   front.AddTo(builder);
//   std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
//   front.Start();
//   ...
//   server->Shutdown(deadline);
//   front.Stop();
class AsyncTaskService {
 public:
  struct Options {
    int completion_queues = 1;
    int max_workers = 64;
    // List calls (ListTasks, ListProjects) running at once; more wait for
    // one to end (up to their deadline or 30 s; at most half the workers
    // wait), so that pages of the heaviest rows cannot add up to the
    // server's memory. BatchCreateTasks calls have as many slots of their
    // own; at most a quarter of the workers, holding 16 MiB of parsed
    // requests in all, wait for one.
    int max_concurrent_lists = 4;
    bool reads_on_queue_threads = true;
    // Counts each TaskService call and reads the worker pool at each scrape;
    // null: no metrics. Must outlive this object.
    ServerMetrics* metrics = nullptr;
    // The changes WatchTasks streams report; must outlive this object. Null:
    // WatchTasks calls are not served.
    ChangeFeed* feed = nullptr;
    TaskWatchers::Options watchers;
    // What bounds the replies the server holds for clients that have not
    // read them: TaskService calls beyond it are refused (ReplyBacklog).
    ReplyBacklog::Limits unread_replies;
  };

  // `service` and `health` must outlive this object.
  AsyncTaskService(TaskServiceImpl& service, HealthService& health,
                   Options options);
  AsyncTaskService(const AsyncTaskService&) = delete;
  AsyncTaskService& operator=(const AsyncTaskService&) = delete;
  ~AsyncTaskService();  // Stop(); the server must be shut down by then.

  // Registers tasks.v1.TaskService, grpc.health.v1.Health and the completion
  // queues; before BuildAndStart().
  void AddTo(grpc::ServerBuilder& builder);

  // Once the server is built: waits for calls of every method and starts the
  // queue threads.
  void Start();

  // Ends every WatchTasks stream (TaskWatchers::Shutdown); before
  // grpc::Server::Shutdown(), so that streams do not hold up its drain.
  void ShutdownWatchers(absl::Duration grace);

  // What the WatchTasks streams hold (zeros without a feed).
  TaskWatchers::Stats watcher_stats() const;

  // TaskService unary calls arrived and not yet done with (answered and
  // sent, or given up), for the drain at shutdown. A call gRPC accepted
  // counts once its queue thread takes it up: see MarkQueues.
  int live_calls() const;

  // Queues a marker on every completion queue, behind what is queued there
  // now (a grpc::Alarm due at once); the count returned reaches 0 once every
  // queue thread has taken its marker up, and with it every call whose
  // arrival was queued before. Once the server is shutting down, no call
  // arrives after that.
  std::shared_ptr<const std::atomic<int>> MarkQueues();

  // After grpc::Server::Shutdown() returned: waits for the work still
  // running on the workers, then drains and joins the queue threads. Later
  // calls return at once.
  void Stop();

 private:
  // What every call object reaches: the services and the workers.
  std::unique_ptr<async_internal::FrontState> state_;
  HealthService& health_;
  const int completion_queue_count_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_ASYNC_TASK_SERVICE_H_
