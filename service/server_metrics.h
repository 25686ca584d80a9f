#ifndef TASKS_SERVICE_SERVER_METRICS_H_
#define TASKS_SERVICE_SERVER_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/concurrency_limit.h"
#include "service/method_metrics.h"
#include "service/reply_backlog.h"
#include "service/worker_pool.h"
#include "storage/store_observer.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace tasks::service {

// ServerMetrics
//
// The server's Prometheus metrics, every name and label defined here (the
// README's "Metrics" section lists them):
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_code}
//   grpc_server_calls_in_flight{grpc_service,grpc_method}
//   tasks_worker_threads, tasks_worker_threads_busy,
//   tasks_worker_queue_length, tasks_worker_rejected_calls_total
//   tasks_unread_reply_bytes, tasks_unread_reply_refused_calls_total,
//   tasks_unread_reply_dropped_calls_total
//   tasks_db_pool_max_connections, tasks_db_pool_open_connections,
//   tasks_db_pool_in_use_connections, tasks_db_pool_wait_seconds
//   tasks_db_group_commit_writes
//   tasks_health_serving, tasks_watchers_open,
//   tasks_unauthenticated_refused_calls_total,
//   tasks_build_info{version,api,grpc_version,protobuf_version}
// Labels never hold ids, tokens or principals. Calls are recorded through
// pre-resolved MethodMetrics; the store reports through store_observer();
// the worker pool is read at each scrape. Thread-safe.
//
// Example:
//   auto metrics = std::make_shared<ServerMetrics>();
//   options.observer = &metrics->store_observer();  // SociTaskStoreOptions
//   MethodMetrics& get_task = metrics->ForMethod("tasks.v1.TaskService",
//                                                "GetTask");
//   absl::StatusOr<std::unique_ptr<prometheus::Exposer>> http =
//       metrics->Serve("127.0.0.1:9464");
class ServerMetrics {
 public:
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;
  ~ServerMetrics();

  // The metrics of one method, made on first request and kept: ask once,
  // when the server starts, and keep the reference.
  MethodMetrics& ForMethod(absl::string_view service, absl::string_view method);

  // Reports the store's pool and group commits into these metrics.
  storage::StoreObserver& store_observer();

  // Reads `pool`'s figures at each scrape, until the returned handle goes
  // (which must happen before `pool` does).
  std::shared_ptr<void> WatchWorkerPool(const WorkerPool& pool);

  // Likewise for `backlog`'s unread replies.
  std::shared_ptr<void> WatchReplyBacklog(const ReplyBacklog& backlog);

  // Likewise for the slots of `limit`, labelled slot=`slot` ("list",
  // "batch").
  std::shared_ptr<void> WatchSlots(std::string slot,
                                   const ConcurrencyLimit& limit);

  // Whether the health service reports SERVING.
  void SetServing(bool serving);

  // WatchTasks streams open now.
  void SetOpenWatchers(int open);

  // A TaskService call refused at the front door (TokenAuthProcessor).
  void CountUnauthenticatedRefusal();

  // Every metric in Prometheus's text exposition format, as /metrics serves
  // it.
  std::string Scrape();

  // Serves Scrape() at http://<address>/metrics until the Exposer goes.
  // UNAVAILABLE when `address` ("host:port") cannot be listened on.
  absl::StatusOr<std::unique_ptr<prometheus::Exposer>> Serve(
      const std::string& address);

 private:
  class Families;
  class StoreAdapter;
  class ScrapeHooks;

  const std::shared_ptr<prometheus::Registry> registry_;
  const std::unique_ptr<Families> families_;
  const std::unique_ptr<StoreAdapter> store_adapter_;
  const std::shared_ptr<ScrapeHooks> scraped_;  // what Serve() exposes
  const std::shared_ptr<void> log_watched_;     // by scraped_, while this lives

  absl::Mutex mu_;
  std::vector<std::unique_ptr<MethodMetrics>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_SERVER_METRICS_H_
