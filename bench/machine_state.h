#ifndef TASKS_BENCH_MACHINE_STATE_H_
#define TASKS_BENCH_MACHINE_STATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace tasks::bench {

// CPU time of all cores since boot, in clock ticks, from the "cpu" line of
// /proc/stat.
struct CpuTicks {
  // user + nice + system + idle + iowait + irq + softirq + steal (guest time
  // is already inside user and nice).
  int64_t total = 0;
  int64_t idle = 0;  // idle + iowait
  // Time the hypervisor gave this machine's virtual CPUs to someone else.
  int64_t steal = 0;
};

// The "cpu" line of `proc_stat` (the text of /proc/stat). INVALID_ARGUMENT
// when it is missing or has fewer than the 8 columns up to steal.
absl::StatusOr<CpuTicks> ParseCpuTicks(absl::string_view proc_stat);

// The 1-minute load average, first field of `proc_loadavg` (the text of
// /proc/loadavg). INVALID_ARGUMENT when it is not a number.
absl::StatusOr<double> ParseLoadAverage(absl::string_view proc_loadavg);

// What /proc says about the machine at one moment; fields the system did not
// give are absent.
struct MachineSample {
  absl::optional<CpuTicks> ticks;
  absl::optional<double> load;
  std::string loadavg_line;  // /proc/loadavg as it is, "" when unreadable
};

MachineSample SampleMachine();

// MachineWindow
//
// The machine's state over one or more measured windows (the slices of a
// figure, a round, the whole run): the CPU ticks spent between each window's
// first and last sample, and the 1-minute load average at the end of each.
//
// Example:
//   MachineWindow window;
//   MachineSample start = SampleMachine();
//   ... measure ...
//   window.Add(start, SampleMachine());
//   std::string text = FormatMachineWindow(window);  // "load 1.20, steal 0.3%"
class MachineWindow {
 public:
  // Adds the window from `start` to `end`; ticks only when both have them.
  void Add(const MachineSample& start, const MachineSample& end);
  // Adds every window of `other`.
  void Merge(const MachineWindow& other);

  // Mean of the 1-minute load averages at the windows' ends.
  absl::optional<double> MeanLoad() const;
  // Steal ticks over all ticks of the windows, in percent.
  absl::optional<double> StealPercent() const;
  // Ticks not idle over all ticks of the windows, in percent.
  absl::optional<double> BusyPercent() const;

 private:
  CpuTicks ticks_;
  double load_sum_ = 0;
  int load_count_ = 0;
};

// "1.20" / "0.3": a load average / a percentage for a table cell; "-" when
// absent.
std::string FormatLoad(absl::optional<double> load);
std::string FormatPercent(absl::optional<double> percent);

// "load 1.20, steal 0.3%" ("-" for what is absent).
std::string FormatMachineWindow(const MachineWindow& window);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_MACHINE_STATE_H_
