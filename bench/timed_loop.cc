#include "bench/timed_loop.h"

#include <chrono>
#include <thread>
#include <vector>

namespace tasks::bench {

RunStats RunTimedLoop(int threads, absl::Duration warmup,
                      absl::Duration duration, const TimedOperation& operation) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point warm_end = Clock::now() + absl::ToChronoNanoseconds(warmup);
  const Clock::time_point measure_end = warm_end + absl::ToChronoNanoseconds(duration);

  std::vector<RunStats> per_thread(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      RunStats& stats = per_thread[t];
      for (int64_t sequence = 1;; ++sequence) {
        const Clock::time_point started = Clock::now();
        if (started >= measure_end) break;
        const absl::Status status = operation(t, sequence);
        const Clock::time_point now = Clock::now();
        if (now < warm_end || now > measure_end) continue;
        if (status.ok()) {
          ++stats.ok;
          stats.latency.Record(absl::FromChrono(now - started));
        } else {
          ++stats.errors[absl::StatusCodeToString(status.code())];
        }
      }
    });
  }
  std::this_thread::sleep_until(warm_end);
  const absl::Duration cpu_start = ProcessCpuTime();
  std::this_thread::sleep_until(measure_end);
  const absl::Duration cpu_end = ProcessCpuTime();
  for (std::thread& worker : workers) worker.join();

  RunStats total;
  for (const RunStats& stats : per_thread) total.Merge(stats);
  total.elapsed = duration;
  total.client_cpu = cpu_end - cpu_start;
  return total;
}

}  // namespace tasks::bench
