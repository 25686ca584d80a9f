#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_format.h"

namespace tasks::bench {
namespace {

// Values below 2^kSubBits get a bucket each; above, each power of two is
// split into 2^kSubBits buckets (relative error <= 2^-kSubBits).
constexpr int kSubBits = 7;
constexpr int64_t kSubCount = int64_t{1} << kSubBits;
constexpr int kBucketCount = (64 - kSubBits + 1) * kSubCount;

int BucketOf(uint64_t v) {
  if (v < static_cast<uint64_t>(kSubCount)) return static_cast<int>(v);
  const int msb = 63 - __builtin_clzll(v);
  const int shift = msb - kSubBits;
  const uint64_t mantissa = v >> shift;  // in [kSubCount, 2 * kSubCount)
  return static_cast<int>((shift + 1) * kSubCount + (mantissa - kSubCount));
}

// The midpoint of the values that fall into `bucket`.
int64_t ValueOf(int bucket) {
  if (bucket < kSubCount) return bucket;
  const int shift = bucket / kSubCount - 1;
  const uint64_t mantissa = kSubCount + bucket % kSubCount;
  const uint64_t low = mantissa << shift;
  const uint64_t width = uint64_t{1} << shift;
  return static_cast<int64_t>(low + width / 2);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t ns = std::max<int64_t>(0, absl::ToInt64Nanoseconds(latency));
  ++buckets_[BucketOf(static_cast<uint64_t>(ns))];
  if (count_ == 0 || ns < min_ns_) min_ns_ = ns;
  if (count_ == 0 || ns > max_ns_) max_ns_ = ns;
  ++count_;
  sum_ns_ += static_cast<double>(ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  min_ns_ = count_ == 0 ? other.min_ns_ : std::min(min_ns_, other.min_ns_);
  max_ns_ = count_ == 0 ? other.max_ns_ : std::max(max_ns_, other.max_ns_);
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
}

absl::Duration LatencyHistogram::min() const {
  return absl::Nanoseconds(min_ns_);
}

absl::Duration LatencyHistogram::max() const {
  return absl::Nanoseconds(max_ns_);
}

absl::Duration LatencyHistogram::mean() const {
  if (count_ == 0) return absl::ZeroDuration();
  return absl::Nanoseconds(sum_ns_ / static_cast<double>(count_));
}

absl::Duration LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return absl::ZeroDuration();
  const double wanted = std::ceil(percent / 100.0 * static_cast<double>(count_));
  const int64_t rank = std::clamp<int64_t>(static_cast<int64_t>(wanted), 1, count_);
  int64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return absl::Nanoseconds(std::clamp(ValueOf(i), min_ns_, max_ns_));
    }
  }
  return absl::Nanoseconds(max_ns_);
}

std::string FormatLatency(absl::Duration d) {
  const double ns = absl::ToDoubleNanoseconds(d);
  if (ns < 1e3) return absl::StrFormat("%.0fns", ns);
  if (ns < 1e6) return absl::StrFormat("%.3gus", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.3gms", ns / 1e6);
  return absl::StrFormat("%.3gs", ns / 1e9);
}

}  // namespace tasks::bench
