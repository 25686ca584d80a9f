#ifndef TASKS_BENCH_RUN_STATS_H_
#define TASKS_BENCH_RUN_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "bench/latency_histogram.h"

namespace tasks::bench {

// What one measured run produced: operations that succeeded within the
// measurement window, failures by cause, and the latency of the successes.
struct RunStats {
  int64_t ok = 0;
  // Failures by cause: a gRPC status code name ("UNAVAILABLE") or a database
  // error class.
  std::map<std::string, int64_t> errors;
  LatencyHistogram latency;
  // Length of the measurement window (warm-up excluded).
  absl::Duration elapsed;
  // Sum of response payload bytes of the successes (0 where not meaningful).
  int64_t response_bytes = 0;
  // CPU time (user + system) used during the window by this process and by
  // the server under test; zero when not measured.
  absl::Duration client_cpu;
  absl::Duration server_cpu;

  // Successful operations per second of the window.
  double PerSecond() const;
  int64_t ErrorCount() const;
  // CPU time per successful operation; zero when not measured.
  absl::Duration ClientCpuPerOp() const;
  absl::Duration ServerCpuPerOp() const;
  // Adds another thread's counts over the same window; `elapsed` keeps the
  // larger window.
  void Merge(const RunStats& other);
  // Adds a later window of the same figure; the windows' lengths add up.
  void Append(const RunStats& later);
};

// User + system CPU time this process (all its threads) has used so far.
absl::Duration ProcessCpuTime();

// One line: "1234.5 ops/s  p50 ... p90 ... p99 ... p99.9 ... max ...  errors: ...".
std::string FormatRunStats(const RunStats& stats, const std::string& unit);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_RUN_STATS_H_
