#include "bench/latency_histogram.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::bench {
namespace {

double Micros(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.Percentile(50), absl::ZeroDuration());
  EXPECT_EQ(h.mean(), absl::ZeroDuration());
}

TEST(LatencyHistogramTest, PercentilesOfUniformSamplesAreWithinOnePercent) {
  LatencyHistogram h;
  for (int us = 1; us <= 100000; ++us) h.Record(absl::Microseconds(us));
  EXPECT_EQ(h.count(), 100000);
  EXPECT_NEAR(Micros(h.Percentile(50)), 50000, 500);
  EXPECT_NEAR(Micros(h.Percentile(90)), 90000, 900);
  EXPECT_NEAR(Micros(h.Percentile(99)), 99000, 990);
  EXPECT_NEAR(Micros(h.Percentile(99.9)), 99900, 999);
  EXPECT_EQ(h.min(), absl::Microseconds(1));
  EXPECT_EQ(h.max(), absl::Microseconds(100000));
  EXPECT_NEAR(Micros(h.mean()), 50000.5, 0.01);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int ns = 0; ns < 100; ++ns) h.Record(absl::Nanoseconds(ns));
  EXPECT_EQ(h.Percentile(50), absl::Nanoseconds(49));
  EXPECT_EQ(h.Percentile(100), absl::Nanoseconds(99));
}

TEST(LatencyHistogramTest, PercentileIsClampedToTheRecordedRange) {
  LatencyHistogram h;
  h.Record(absl::Milliseconds(3));
  EXPECT_EQ(h.Percentile(0), absl::Milliseconds(3));
  EXPECT_EQ(h.Percentile(100), absl::Milliseconds(3));
}

TEST(LatencyHistogramTest, MergeCombinesCountsAndRange) {
  LatencyHistogram fast;
  LatencyHistogram slow;
  for (int i = 0; i < 900; ++i) fast.Record(absl::Microseconds(100));
  for (int i = 0; i < 100; ++i) slow.Record(absl::Milliseconds(10));
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 1000);
  EXPECT_EQ(fast.min(), absl::Microseconds(100));
  EXPECT_EQ(fast.max(), absl::Milliseconds(10));
  EXPECT_NEAR(Micros(fast.Percentile(50)), 100, 1);
  EXPECT_NEAR(Micros(fast.Percentile(95)), 10000, 100);
}

TEST(LatencyHistogramTest, NegativeDurationsCountAsZero) {
  LatencyHistogram h;
  h.Record(-absl::Seconds(1));
  EXPECT_EQ(h.count(), 1);
  EXPECT_EQ(h.max(), absl::ZeroDuration());
}

}  // namespace
}  // namespace tasks::bench
