#ifndef TASKS_SERVICE_TASK_WATCHERS_H_
#define TASKS_SERVICE_TASK_WATCHERS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "service/change_feed.h"
#include "service/received_requests.h"
#include "service/server_metrics.h"
#include "service/task_service_impl.h"
#include "service/worker_pool.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::service {
namespace watch_internal {
struct WatchState;
}  // namespace watch_internal

// TaskWatchers
//
// The WatchTasks streams of a server, served on its completion queues like
// the health Watch: one state machine per call, at most one Write in flight,
// and a call the client cancels or drops freed at once.
//
// A stream is pulled, not pushed, so a slow reader costs no memory: it holds
// its WatchCursor (a position, its filter and scope) and, only while it
// catches up from the store, up to kStoreReadLimit changes. Each time its
// previous Write completed (or the ChangeFeed has new changes) it takes the
// next change after its position from the feed's ring; changes it may not
// see, or that do not match its filter, move its position without a Write.
// When its position is older than the ring's oldest change (a resume from an
// old token, or a reader slower than the ring) it reads that part from the
// store on a worker thread, never on a queue thread; so does finding the
// present for streams without a resume_token, one lookup for all of those
// that arrived while none was under way (a burst of reconnecting clients
// takes one worker).
//
// The stream's response headers are sent as soon as its start position is
// fixed: a change committed after the client has them is reported.
//
// Statuses: PrepareWatch's (UNAUTHENTICATED, INVALID_ARGUMENT); the store's,
// ending the stream (OUT_OF_RANGE, reason RESUME_TOKEN_EXPIRED, for a token
// past the retention); RESOURCE_EXHAUSTED, reason TOO_MANY_WATCHERS, for a
// stream beyond `max_watchers` open on the server or
// `max_watchers_per_principal` of one principal (with authentication off,
// callers cannot be told apart, and only the server's cap applies);
// RESOURCE_EXHAUSTED, reason RESOURCE_EXHAUSTED, when no worker thread is
// free to read the store; UNAVAILABLE after Shutdown(). Thread-safe.
//
// Example:
//   TaskWatchers watchers(async_service, impl, feed, workers, {}, metrics);
//   feed.Start([&](const ChangeFeed::Batch& batch) { watchers.Wake(batch); });
//   ... once the server is built, for each of its queues:
//   watchers.AwaitCalls(*queue);
//   ...
//   watchers.Shutdown(absl::Seconds(1));  // Before grpc::Server::Shutdown.
class TaskWatchers {
 public:
  struct Options {
    int max_watchers = 1000;
    int max_watchers_per_principal = 100;
  };

  // Changes a stream behind the ring reads from the store at a time.
  static constexpr int kStoreReadLimit = 32;

  // What the streams hold, for tests and metrics.
  struct Stats {
    int open = 0;             // streams watching now
    int64_t events_sent = 0;  // events written, over all streams
    // The most events one stream ever had written and not yet completed:
    // 1, whatever its client does.
    int max_writes_in_flight = 0;
    // The most changes one stream ever held read from the store and not yet
    // sent: at most kStoreReadLimit.
    int max_backlog = 0;
  };

  // Every argument but `metrics` (null: none) must outlive this object.
  TaskWatchers(ReceivedRequests<v1::TaskService>& service,
               TaskServiceImpl& impl, ChangeFeed& feed, WorkerPool& workers,
               Options options, ServerMetrics* metrics);
  TaskWatchers(const TaskWatchers&) = delete;
  TaskWatchers& operator=(const TaskWatchers&) = delete;
  ~TaskWatchers();

  // Waits for WatchTasks calls on `queue`, one of the server's, which must
  // be polled until the server has shut down.
  void AwaitCalls(grpc::ServerCompletionQueue& queue);

  // The ChangeFeed's listener: every stream waiting for a change looks at
  // the new ones, or moves past them at once when it can see none of them
  // (its filter or scope names other projects): so writes to one project
  // cost the streams watching others next to nothing.
  void Wake(const ChangeFeed::Batch& batch);

  // Every stream ends with UNAVAILABLE, and later ones at once: a stream
  // idle or catching up at once, one with a Write in flight when it
  // completes. Streams whose client does not take that Write within `grace`
  // are cancelled. Returns when every stream has ended or been cancelled.
  void Shutdown(absl::Duration grace);

  Stats stats() const;

 private:
  std::unique_ptr<watch_internal::WatchState> state_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TASK_WATCHERS_H_
