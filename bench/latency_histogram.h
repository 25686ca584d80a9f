#ifndef TASKS_BENCH_LATENCY_HISTOGRAM_H_
#define TASKS_BENCH_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace tasks::bench {

// LatencyHistogram
//
// An HDR-style log-linear histogram of durations: every power of two is split
// into 128 buckets, so any recorded value is reported within 1% of itself,
// from nanoseconds up to hours, in a fixed ~60 KiB. Recording is O(1) and
// allocation-free; one histogram per thread, merged at the end. Not
// thread-safe.
//
// Example:
//   LatencyHistogram h;
//   h.Record(absl::Microseconds(120));
//   absl::Duration p99 = h.Percentile(99.0);
class LatencyHistogram {
 public:
  LatencyHistogram();

  // Adds one sample; negative durations count as zero.
  void Record(absl::Duration latency);

  // Adds every sample of `other`.
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  absl::Duration min() const;
  absl::Duration max() const;
  absl::Duration mean() const;

  // The smallest recorded value v such that at least `percent`% of samples
  // are <= v (to within the bucket width, clamped to [min, max]). Zero when
  // the histogram is empty.
  absl::Duration Percentile(double percent) const;

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t min_ns_ = 0;
  int64_t max_ns_ = 0;
  double sum_ns_ = 0;
};

// "812us", "1.25ms", "3.1s": a short human form with 3 significant digits.
std::string FormatLatency(absl::Duration d);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_LATENCY_HISTOGRAM_H_
