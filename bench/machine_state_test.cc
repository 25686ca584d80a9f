#include "bench/machine_state.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace tasks::bench {
namespace {

// A 2-core guest's /proc/stat head: user nice system idle iowait irq softirq
// steal guest guest_nice.
constexpr char kProcStat[] =
    "cpu  1000 10 200 5000 40 0 50 100 30 0\n"
    "cpu0 500 5 100 2500 20 0 25 50 15 0\n"
    "cpu1 500 5 100 2500 20 0 25 50 15 0\n"
    "intr 12345 0 0\n";

MachineSample Sample(int64_t total, int64_t idle, int64_t steal, double load) {
  MachineSample sample;
  sample.ticks = CpuTicks{total, idle, steal};
  sample.load = load;
  return sample;
}

TEST(ParseCpuTicksTest, SumsTheColumnsUpToStealWithoutGuest) {
  absl::StatusOr<CpuTicks> ticks = ParseCpuTicks(kProcStat);
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  EXPECT_EQ(ticks->total, 1000 + 10 + 200 + 5000 + 40 + 0 + 50 + 100);
  EXPECT_EQ(ticks->idle, 5000 + 40);
  EXPECT_EQ(ticks->steal, 100);
}

TEST(ParseCpuTicksTest, OldKernelWithoutStealColumnIsInvalid) {
  absl::StatusOr<CpuTicks> ticks =
      ParseCpuTicks("cpu  1000 10 200 5000 40 0 50\n");
  EXPECT_EQ(ticks.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseCpuTicksTest, NoAggregateLineIsInvalid) {
  EXPECT_EQ(ParseCpuTicks("cpu0 1 2 3 4 5 6 7 8\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCpuTicks("cpu  1 2 x 4 5 6 7 8\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseLoadAverageTest, ReadsTheOneMinuteAverage) {
  absl::StatusOr<double> load = ParseLoadAverage("3.99 2.77 2.50 3/247 4222\n");
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_DOUBLE_EQ(*load, 3.99);
  EXPECT_EQ(ParseLoadAverage("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MachineWindowTest, StealIsTheShareOfTicksOverAllWindows) {
  MachineWindow window;
  // 1000 ticks with 50 stolen, then 1000 with 150 stolen: 10% overall.
  window.Add(Sample(0, 0, 0, 1.0), Sample(1000, 600, 50, 2.0));
  window.Add(Sample(5000, 3000, 500, 3.0), Sample(6000, 3200, 650, 4.0));
  ASSERT_TRUE(window.StealPercent().has_value());
  EXPECT_DOUBLE_EQ(*window.StealPercent(), 10.0);
  EXPECT_DOUBLE_EQ(*window.BusyPercent(), 60.0);
  // The load at each window's end.
  EXPECT_DOUBLE_EQ(*window.MeanLoad(), 3.0);
  EXPECT_EQ(FormatMachineWindow(window), "load 3.00, steal 10.0%");
}

TEST(MachineWindowTest, MergeAddsTheOtherWindows) {
  MachineWindow a;
  a.Add(Sample(0, 0, 0, 1.0), Sample(100, 50, 0, 1.0));
  MachineWindow b;
  b.Add(Sample(0, 0, 0, 1.0), Sample(100, 50, 20, 3.0));
  a.Merge(b);
  EXPECT_DOUBLE_EQ(*a.StealPercent(), 10.0);
  EXPECT_DOUBLE_EQ(*a.MeanLoad(), 2.0);
}

TEST(MachineWindowTest, NothingSampledShowsDashes) {
  MachineWindow window;
  window.Add(MachineSample(), MachineSample());
  EXPECT_FALSE(window.StealPercent().has_value());
  EXPECT_FALSE(window.MeanLoad().has_value());
  EXPECT_EQ(FormatMachineWindow(window), "load -, steal -");
  EXPECT_EQ(FormatLoad(absl::nullopt), "-");
  EXPECT_EQ(FormatPercent(absl::nullopt), "-");
}

TEST(SampleMachineTest, ReadsThisMachine) {
  MachineSample sample = SampleMachine();
  ASSERT_TRUE(sample.ticks.has_value());
  EXPECT_GT(sample.ticks->total, 0);
  ASSERT_TRUE(sample.load.has_value());
  EXPECT_GE(*sample.load, 0.0);
  EXPECT_FALSE(sample.loadavg_line.empty());
}

}  // namespace
}  // namespace tasks::bench
