#ifndef TASKS_SERVICE_WORKER_POOL_H_
#define TASKS_SERVICE_WORKER_POOL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace tasks::service {

// WorkerPool
//
// At most `max_threads` threads running submitted work, started as needed and
// kept once started. Work never queues behind busy threads: TrySubmit refuses
// it when every thread is busy, so that an overloaded server answers at once
// (RESOURCE_EXHAUSTED) instead of letting a backlog grow without bound.
// With `per_caller`, work is submitted for a caller (a key), and once half of
// the threads are in use a caller whose work already takes at least half as
// many threads as are still free is refused: a caller alone still has half
// of them, and however many callers send more than the others, the last
// threads stay for callers holding none (N callers flooding a large pool
// stop at about N/(N+2) of it: one at half, four at two thirds).
// Thread-safe.
//
// Example:
//   WorkerPool pool(64, /*per_caller=*/true);
//   if (pool.Submit([] { Work(); }, [&] { return CallerOf(call); }) !=
//       WorkerPool::kRunning) {
//     RefuseTheCall();
//   }
//   ...
//   pool.Stop();  // Waits for Work() to return.
class WorkerPool {
 public:
  explicit WorkerPool(int max_threads, bool per_caller = false);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // Stop().

  // Runs `work` on an idle thread (starting one if fewer than max_threads
  // run). Returns false, without running it, when all max_threads are busy
  // or the pool is stopped.
  bool TrySubmit(std::function<void()> work);

  enum Admission { kRunning, kAllBusy, kOverShare };
  // TrySubmit for the caller `caller()` names, which may also be refused for
  // its share (see the class comment). `caller` is asked for only with
  // `per_caller` (naming it may cost a token check); an empty name is
  // nobody's, bound by the total only.
  Admission Submit(std::function<void()> work,
                   absl::FunctionRef<std::string()> caller);

  // What the pool is doing, for metrics.
  struct Stats {
    int threads = 0;         // started (and kept)
    int busy = 0;            // running work
    int queued = 0;          // handed to an idle thread not yet running it
    int64_t rejected = 0;    // refusals since the pool was made: all busy
    int64_t over_share = 0;  // and for their caller's share
  };
  Stats stats() const;

  // Refuses new work, waits for the running work to return and joins the
  // threads. Later calls return at once.
  void Stop();

 private:
  struct Work {
    std::function<void()> run;
    std::string caller;
  };

  void Loop();

  const int max_threads_;
  const bool per_caller_;
  mutable absl::Mutex mu_;
  absl::CondVar work_ready_;
  std::deque<Work> queue_ ABSL_GUARDED_BY(mu_);
  // Work submitted and not yet returned, per caller (none empty).
  absl::flat_hash_map<std::string, int> held_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t over_share_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_WORKER_POOL_H_
