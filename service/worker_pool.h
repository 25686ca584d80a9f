#ifndef TASKS_SERVICE_WORKER_POOL_H_
#define TASKS_SERVICE_WORKER_POOL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tasks::service {

// WorkerPool
//
// At most `max_threads` threads running submitted work, started as needed and
// kept once started. Work never queues behind busy threads: TrySubmit refuses
// it when every thread is busy, so that an overloaded server answers at once
// (RESOURCE_EXHAUSTED) instead of letting a backlog grow without bound.
// Thread-safe.
//
// Example:
//   WorkerPool pool(64);
//   if (!pool.TrySubmit([] { Work(); })) RefuseTheCall();
//   ...
//   pool.Stop();  // Waits for Work() to return.
class WorkerPool {
 public:
  explicit WorkerPool(int max_threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // Stop().

  // Runs `work` on an idle thread (starting one if fewer than max_threads
  // run). Returns false, without running it, when all max_threads are busy
  // or the pool is stopped.
  bool TrySubmit(std::function<void()> work);

  // What the pool is doing, for metrics.
  struct Stats {
    int threads = 0;       // started (and kept)
    int busy = 0;          // running work
    int queued = 0;        // handed to an idle thread not yet running it
    int64_t rejected = 0;  // TrySubmit refusals since the pool was made
  };
  Stats stats() const;

  // Refuses new work, waits for the running work to return and joins the
  // threads. Later calls return at once.
  void Stop();

 private:
  void Loop();

  const int max_threads_;
  mutable absl::Mutex mu_;
  absl::CondVar work_ready_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_WORKER_POOL_H_
