#ifndef TASKS_SERVICE_STORE_MONITOR_H_
#define TASKS_SERVICE_STORE_MONITOR_H_

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
// the store's CheckHealth(). `on_change(serving)` is called after the first
// probe and whenever the outcome flips, from the probing thread; transitions
// are logged.
//
// Example:
//   StoreMonitor monitor(store, open_store, absl::Seconds(1),
//                        [&](bool serving) { SetHealth(serving); });
//   monitor.Start();  // first probe now, then every second
//   ...
//   monitor.Stop();
class StoreMonitor {
 public:
  StoreMonitor(DeferredTaskStore& store, StoreFactory open_store,
               absl::Duration interval, std::function<void(bool)> on_change);
  StoreMonitor(const StoreMonitor&) = delete;
  StoreMonitor& operator=(const StoreMonitor&) = delete;
  ~StoreMonitor();  // Stops.

  // Probes once on the calling thread. When opening the store fails with an
  // error other than UNAVAILABLE (the database answers but cannot be used as
  // configured: a malformed connection string, a schema it cannot migrate),
  // returns that error and starts nothing. Otherwise starts probing every
  // `interval` in a background thread and returns OK. Call at most once.
  absl::Status Start();

  // Stops the background thread, waiting for a probe under way. After it
  // returns `on_change` is not called again. Idempotent.
  void Stop();

 private:
  // Returns the outcome: OK, the open error, or CheckHealth's error.
  absl::Status ProbeOnce();
  void Run();

  DeferredTaskStore& store_;
  const StoreFactory open_store_;
  const absl::Duration interval_;
  const std::function<void(bool)> on_change_;

  // Only the probing thread (or Start's caller, before it exists) touches
  // these two.
  std::optional<bool> serving_;
  absl::Status last_error_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_STORE_MONITOR_H_
