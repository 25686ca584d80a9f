#ifndef TASKS_SERVICE_STORE_MONITOR_H_
#define TASKS_SERVICE_STORE_MONITOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/deferred_task_store.h"
#include "storage/task_store.h"

namespace tasks::service {

// Opens a store; UNAVAILABLE while the database cannot be reached.
using StoreFactory = std::function<absl::StatusOr<storage::TaskStorePtr>()>;

// StoreMonitor
//
// Keeps a DeferredTaskStore open and reports whether it can serve. Each probe
// opens the store through the factory if it is not installed yet (so a server
// started while the database is down starts serving once it is up), then asks
// the store's CheckHealth() with a deadline of `timeout`. A probe that has
// not answered by then counts as failed at once, even while it still waits
// (a hung database): the outcome does not wait for the store to give up.
// `on_change(serving)` is called after the first probe and whenever the
// outcome flips, from a monitor thread, never from two at once; transitions
// are logged.
//
// Example:
//   StoreMonitor monitor(store, open_store, absl::Seconds(1),
//                        absl::Milliseconds(500),
//                        [&](bool serving) { SetHealth(serving); });
//   monitor.Start();  // first probe now, then every second
//   ...
//   monitor.Stop();
class StoreMonitor {
 public:
  StoreMonitor(DeferredTaskStore& store, StoreFactory open_store,
               absl::Duration interval, absl::Duration timeout,
               std::function<void(bool)> on_change);
  StoreMonitor(const StoreMonitor&) = delete;
  StoreMonitor& operator=(const StoreMonitor&) = delete;
  ~StoreMonitor();  // Stops.

  // Probes once on the calling thread. When opening the store fails with an
  // error other than UNAVAILABLE (the database answers but cannot be used as
  // configured: a malformed connection string, a schema it cannot migrate),
  // returns that error and starts nothing. Otherwise starts probing every
  // `interval` in the background and returns OK. Call at most once.
  absl::Status Start();

  // Stops the background threads, waiting for a probe under way (which its
  // deadline bounds). After it returns `on_change` is not called again.
  // Idempotent.
  void Stop();

 private:
  // Opens the store if needed and asks CheckHealth(): OK, the open error, or
  // CheckHealth's error.
  absl::Status Probe();
  // Records a probe's outcome; logs and reports what changed.
  void Report(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The probing thread.
  void RunProbes();
  // The thread reporting a probe that overran its deadline.
  void WatchProbes();

  DeferredTaskStore& store_;
  const StoreFactory open_store_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const std::function<void(bool)> on_change_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<bool> serving_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  // The health check under way: its number, and when it is overdue
  // (InfiniteFuture while none is, or once it was reported).
  uint64_t check_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time overdue_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread prober_;
  std::thread watcher_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_STORE_MONITOR_H_
