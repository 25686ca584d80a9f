#ifndef TASKS_BENCH_BUSY_THREADS_H_
#define TASKS_BENCH_BUSY_THREADS_H_

// BusyThreads
//
// Threads that spin until destroyed: another tenant's work on the machine,
// so that a run can show which ratios hold on a busy machine and not only
// on a quiet one. Each takes a core while the scheduler gives it one, at
// normal priority, as a neighbour's process would.
//
// Example:
//   BusyThreads busy(1);  // one core's worth of someone else's work
//   RunTheFigures();

#include <atomic>
#include <thread>
#include <vector>

namespace tasks::bench {

class BusyThreads {
 public:
  explicit BusyThreads(int count);
  ~BusyThreads();
  BusyThreads(const BusyThreads&) = delete;
  BusyThreads& operator=(const BusyThreads&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace tasks::bench

#endif  // TASKS_BENCH_BUSY_THREADS_H_
