#ifndef TASKS_SERVICE_SERVER_H_
#define TASKS_SERVICE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/async_task_service.h"
#include "service/auth.h"
#include "service/change_feed.h"
#include "service/deferred_task_store.h"
#include "service/health_service.h"
#include "service/server_metrics.h"
#include "service/store_monitor.h"
#include "service/task_service_impl.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace tasks::service {

// How a TaskServer is set up. The defaults are the hardened production ones.
struct ServerConfig {
  // "host:port" to listen on ("127.0.0.1:0" picks a free port). Empty: no
  // port at all, only InProcessChannel() (for tests).
  std::string listen_address;

  // Transport security for `listen_address`; null means plaintext, which
  // logs a warning unless `listen_address` is a loopback one
  // (IsLoopbackAddress).
  std::shared_ptr<grpc::ServerCredentials> credentials;

  // Bearer tokens for TaskService calls (see TaskServiceImpl); null means no
  // authentication. Health and reflection never need one.
  std::shared_ptr<const TokenTable> auth_tokens;

  // Opens the store. When it fails (the database is down) the server starts
  // anyway, NOT_SERVING, and retries every `health_probe_interval`.
  StoreFactory open_store;

  // Threads receiving calls and doing their network work, each with its own
  // completion queue (see AsyncTaskService).
  int completion_queues = 1;

  // Point reads (GetTask, GetProject) run on the completion-queue threads:
  // right for a store whose reads never wait on a network or a lock (SQLite
  // in WAL mode), since a read that blocks holds up every call on its queue,
  // health checks included. A database server's reads go to the worker
  // threads instead, and lists always do (a filtered one may scan the table).
  bool reads_on_queue_threads = true;

  // Most worker threads (writes, lists, and point reads when not on the
  // queue threads); a call arriving when all are busy gets RESOURCE_EXHAUSTED
  // instead of queueing without bound. Also bounds the threads serving
  // reflection.
  int max_threads = 128;

  // List calls running in the store at once, and as many batch creates;
  // more wait (see AsyncTaskService::Options). A list may hold ~20 MB for a
  // page of the heaviest rows (and lists are CPU-bound on a SQLite store), a
  // batch ~10 MB (its request, its rows, its response).
  int max_concurrent_lists = 4;

  // Most health Watch streams open at once; one more gets
  // RESOURCE_EXHAUSTED. Each holds memory until its client goes.
  int max_health_watches = HealthService::kDefaultMaxWatches;

  // Most WatchTasks streams open at once on the server, and of one
  // principal (with auth_tokens; without, callers cannot be told apart and
  // only the server's cap applies); one more gets RESOURCE_EXHAUSTED
  // (reason TOO_MANY_WATCHERS).
  int max_watchers = 1000;
  int max_watchers_per_principal = 100;

  // How often the change log is read while streams watch, besides after
  // each write on this server and each NOTIFY from another (PostgreSQL):
  // what bounds the delay of changes written by other processes on a SQLite
  // file, or by other replicas behind PgBouncer.
  absl::Duration watch_poll_interval = absl::Milliseconds(250);

  // How long changes are kept for resuming streams (trimmed every minute);
  // an older resume_token gets OUT_OF_RANGE.
  absl::Duration watch_retention = absl::Hours(24);

  // Larger requests get RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 1 << 20;

  // Larger responses are not sent: the call fails with RESOURCE_EXHAUSTED.
  // The largest a list page can be is about 1.5 MiB (storage::
  // kListPageByteBudget of stored text, numbers growing ~5x on the wire,
  // plus 1,000 tasks' ids and times), and a single task or project is
  // bounded by the request that stored it; 4 MiB is above both, and is also
  // what gRPC clients accept by default.
  int max_send_message_bytes = 4 << 20;

  // The server pings a connection idle this long, and drops it when the ping
  // is not answered within `keepalive_timeout`.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);

  // Keepalive enforcement: a client pinging more often than this without
  // sending data gets a strike, and after `max_ping_strikes` a GOAWAY
  // ("too_many_pings") that closes its connection. 0 strikes: no limit.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;

  // Connection limits. gRPC 1.51 cannot cap the number of connections; these
  // bound how long each one lives, and so how many an idle or slow client
  // can hold. A duration of absl::InfiniteDuration() (or over 24 days) means
  // no limit.
  //
  // A connection with no call in flight for this long is closed (GOAWAY; a
  // gRPC client reconnects on its next call). A health Watch is a call.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // A connection this old (give or take 10%) is told to go away: it takes no
  // new calls, and the calls on it get `max_connection_age_grace` to finish
  // before it is closed. Clients reconnect, and so spread over the servers.
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Minutes(1);
  // A new connection must finish its TLS handshake and send its HTTP/2
  // preface within this time, or it is closed (gRPC's default is 120 s).
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Most calls in flight on one connection; a client's further calls wait on
  // the client until one ends.
  int max_streams_per_connection = 1024;
  // Memory gRPC may use for connections, calls and the messages they read
  // and write (a grpc::ResourceQuota). Near it, gRPC closes idle
  // connections and refuses calls with RESOURCE_EXHAUSTED ("Bandwidth
  // exhausted or memory limit exceeded"); 0: no limit.
  int64_t network_memory_bytes = int64_t{128} << 20;
  // Replies not yet read by their client, which the server holds until they
  // are (see ReplyBacklog; gRPC's quota above does not count them): a call
  // on a connection holding the first (in replies of 4 KiB or more) is
  // refused with RESOURCE_EXHAUSTED (reason UNREAD_REPLIES), and so is one
  // on a connection holding any once the server holds the second; a read's
  // reply of 4 KiB or more is refused likewise once built, or when the
  // server holds twice the second.
  int64_t max_unread_reply_bytes_per_connection = int64_t{8} << 20;
  int64_t max_unread_reply_bytes = int64_t{32} << 20;

  // How often the database is probed (and, while the store is not open yet,
  // how often opening it is retried).
  absl::Duration health_probe_interval = absl::Seconds(1);

  // How long a probe may take: a database that has not answered by then
  // (hung, or too slow to serve) is NOT_SERVING at once.
  absl::Duration health_probe_timeout = absl::Milliseconds(500);

  // How long Shutdown() lets in-flight calls finish before cancelling them,
  // their database statements included.
  absl::Duration drain_timeout = absl::Seconds(10);

  // Where TaskService calls, the worker pool and the health state are
  // counted (the store reports into it when open_store hands it
  // metrics->store_observer()); null: no metrics.
  std::shared_ptr<ServerMetrics> metrics;

  // "host:port" serving `metrics` over HTTP at /metrics; empty: not served.
  // Needs `metrics`.
  std::string metrics_listen_address;

  // Serve grpc.channelz.v1.Channelz (connections, calls and sockets, for
  // debugging). gRPC registers it for every server the process builds
  // afterwards.
  bool channelz = false;
};

// TaskServer
//
// A running gRPC server: tasks.v1.TaskService over the store, server
// reflection, and the standard grpc.health.v1.Health service, whose overall
// ("") and "tasks.v1.TaskService" statuses are SERVING only while the store
// answers CheckHealth() (probed in the background) and the server is not
// shutting down. Every call is logged (CallLogInterceptorFactory), with its
// principal when auth is on; with ServerConfig::metrics, counted. SO_REUSEPORT
// is off, so a second server cannot bind a port already in use.
//
// Example:
//   ServerConfig config;
//   config.listen_address = "localhost:50051";
//   config.open_store = [] { return storage::OpenSociTaskStore("tasks.db"); };
//   absl::StatusOr<std::unique_ptr<TaskServer>> server =
//       TaskServer::Start(std::move(config));
//   ...
//   (*server)->Shutdown();
class TaskServer {
 public:
  // Starts serving. The store is opened before this returns if it can be;
  // while open_store returns UNAVAILABLE, in the background. Fails with:
  //   UNAVAILABLE       the server cannot listen on `config.listen_address`
  //                     or `config.metrics_listen_address` (in use, or not
  //                     an address);
  //   open_store's error when it is not UNAVAILABLE (a malformed connection
  //                     string is INVALID_ARGUMENT);
  //   INVALID_ARGUMENT  a config without open_store or with non-positive
  //                     limits, or metrics_listen_address without metrics.
  static absl::StatusOr<std::unique_ptr<TaskServer>> Start(ServerConfig config);

  TaskServer(const TaskServer&) = delete;
  TaskServer& operator=(const TaskServer&) = delete;
  ~TaskServer();  // Shutdown().

  // The port bound for `listen_address` (the chosen one for port 0); 0 when
  // there is none.
  int port() const { return port_; }

  // A channel to this server that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // What the WatchTasks streams hold, for tests.
  TaskWatchers::Stats watcher_stats() const { return front_.watcher_stats(); }

  // Graceful shutdown: health turns NOT_SERVING at once (health Watch
  // streams are sent NOT_SERVING, then ended with UNAVAILABLE, and so are
  // WatchTasks streams: one whose client does not take its last event
  // within a second is cancelled), the server
  // stops accepting calls, in-flight calls get up to `drain_timeout` to
  // finish (then are cancelled, and so are their database statements:
  // TaskStore::CancelCalls), connections are closed once no call is left
  // (a client that stopped reading does not hold the drain up), and the
  // store is closed. Blocks until done,
  // shortly after `drain_timeout` even with the database hung; later calls
  // return at once. Thread-safe.
  void Shutdown();

 private:
  explicit TaskServer(ServerConfig config);

  // The store monitor's verdict, to the health service and the metrics.
  void SetServing(bool serving);

  // During Shutdown, once gRPC's has begun: closes every connection as soon
  // as no TaskService call is left, `unmarked` (AsyncTaskService::MarkQueues,
  // queued once the shutdown began) having reached 0, unless `deadline` or
  // `drained` comes first.
  void CloseConnectionsOnceIdle(
      const std::shared_ptr<const std::atomic<int>>& unmarked,
      absl::Time deadline, absl::Notification& drained);

  const ServerConfig config_;
  DeferredTaskStore store_;
  ChangeFeed feed_;  // woken by service_'s writes
  TaskServiceImpl service_;
  HealthService health_;
  AsyncTaskService front_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<StoreMonitor> monitor_;
  // Declared after front_: no scrape reads the workers once they are gone.
  std::unique_ptr<prometheus::Exposer> metrics_http_;
  int port_ = 0;

  absl::Mutex shutdown_mu_;  // Held for the whole Shutdown().
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_SERVER_H_
