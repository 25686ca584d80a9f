#ifndef TASKS_BENCH_WATCH_LOAD_H_
#define TASKS_BENCH_WATCH_LOAD_H_

// What WatchTasks costs: watchers held open beside a write load, and the
// delay from a write's reply to its event at a watcher.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/run_stats.h"
#include "bench/workload.h"
#include "grpcpp/channel.h"
#include "grpcpp/completion_queue.h"

namespace tasks::bench {

// Creates a project named `name` through `channel`; its id.
absl::StatusOr<int64_t> CreateBenchProject(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& name);

// IdleWatchers
//
// `count` WatchTasks streams on one channel, each watching
// "project_id = <project>", a project the load does not write to: the
// server holds them open and checks each write against their filter, and
// sends them nothing. Open() returns once every stream is established (each
// has received the event of a task created in that project for the
// purpose); the destructor cancels them.
//
// Example:
//   absl::StatusOr<std::unique_ptr<IdleWatchers>> watchers =
//       IdleWatchers::Open(channel, 100, idle_project_id);
//   RunLoad(...);        // CreateTask in another project
//   watchers->reset();
class IdleWatchers {
 public:
  static absl::StatusOr<std::unique_ptr<IdleWatchers>> Open(
      const std::shared_ptr<grpc::Channel>& channel, int count,
      int64_t project_id);
  IdleWatchers(const IdleWatchers&) = delete;
  IdleWatchers& operator=(const IdleWatchers&) = delete;
  ~IdleWatchers();

  // Streams that ended before they were cancelled (the server ended them).
  int ended() const;

 private:
  struct Stream;

  IdleWatchers() = default;
  // Drives the streams' completion queue until it is shut down.
  void Drive();

  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Stream>> streams_;
  mutable absl::Mutex mu_;
  int with_event_ ABSL_GUARDED_BY(mu_) = 0;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct EventLatencyOptions {
  // CreateTask calls started per second, on a fixed schedule (an open loop:
  // a slow reply does not delay the next call).
  int writes_per_second = 1000;
  // At most this many calls in flight; a call due while they are is counted
  // as BEHIND_PACE and skipped.
  int max_in_flight = 64;
  absl::Duration warmup = absl::Milliseconds(500);
  absl::Duration duration = absl::Seconds(2);
  // How long to wait after the last reply for the watcher's last events.
  absl::Duration settle = absl::Seconds(5);
  std::function<absl::Duration()> server_cpu_clock;
};

// Creates tasks in `workload`'s project at a fixed rate while one watcher on
// the same server watches that project (from a ListTasks resume_token). For
// each write replied within the measurement window: the delay from its
// reply to its CREATED event at the watcher (an event that arrives first
// counts as 0) in `latency`, one `ok` per event; errors: a write's status
// code, EVENT_MISSING (no event within `settle`), EVENT_DUPLICATE,
// BEHIND_PACE. Fails when the watch cannot be opened.
absl::StatusOr<RunStats> RunEventLatency(
    const std::shared_ptr<grpc::Channel>& channel, const Workload& workload,
    const EventLatencyOptions& options);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_WATCH_LOAD_H_
