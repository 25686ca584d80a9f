#ifndef TASKS_BENCH_TIMED_LOOP_H_
#define TASKS_BENCH_TIMED_LOOP_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bench/run_stats.h"

namespace tasks::bench {

// One operation of thread `thread`; `sequence` counts that thread's calls
// from 1.
using TimedOperation = std::function<absl::Status(int thread, int64_t sequence)>;

// Calls `operation` back to back on `threads` threads for warm-up +
// duration; operations finishing inside the measurement window are counted
// (failures by status code name) and timed.
RunStats RunTimedLoop(int threads, absl::Duration warmup,
                      absl::Duration duration, const TimedOperation& operation);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_TIMED_LOOP_H_
