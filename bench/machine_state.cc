#include "bench/machine_state.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tasks::bench {
namespace {

// user nice system idle iowait irq softirq steal: the columns that count.
constexpr int kTickColumns = 8;

std::string ReadFile(const char* path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<CpuTicks> ParseCpuTicks(absl::string_view proc_stat) {
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    // "cpu " is the sum over cores; "cpu0 " and so on are single cores.
    if (!absl::ConsumePrefix(&line, "cpu ")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (fields.size() < kTickColumns) {
      return absl::InvalidArgumentError(
          absl::StrCat("/proc/stat cpu line has ", fields.size(),
                       " columns, want >= ", kTickColumns));
    }
    int64_t ticks[kTickColumns];
    for (int i = 0; i < kTickColumns; ++i) {
      if (!absl::SimpleAtoi(fields[i], &ticks[i])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "/proc/stat cpu column ", i + 1, " is not a number: ", fields[i]));
      }
    }
    CpuTicks result;
    for (int64_t t : ticks) result.total += t;
    result.idle = ticks[3] + ticks[4];
    result.steal = ticks[7];
    return result;
  }
  return absl::InvalidArgumentError("/proc/stat has no cpu line");
}

absl::StatusOr<double> ParseLoadAverage(absl::string_view proc_loadavg) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(proc_loadavg, ' ', absl::SkipWhitespace());
  double load = 0;
  if (fields.empty() || !absl::SimpleAtod(fields[0], &load)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "/proc/loadavg does not start with a number: ", proc_loadavg));
  }
  return load;
}

MachineSample SampleMachine() {
  MachineSample sample;
  if (absl::StatusOr<CpuTicks> ticks = ParseCpuTicks(ReadFile("/proc/stat"));
      ticks.ok()) {
    sample.ticks = *ticks;
  }
  sample.loadavg_line =
      std::string(absl::StripAsciiWhitespace(ReadFile("/proc/loadavg")));
  if (absl::StatusOr<double> load = ParseLoadAverage(sample.loadavg_line);
      load.ok()) {
    sample.load = *load;
  }
  return sample;
}

void MachineWindow::Add(const MachineSample& start, const MachineSample& end) {
  if (start.ticks && end.ticks) {
    ticks_.total += end.ticks->total - start.ticks->total;
    ticks_.idle += end.ticks->idle - start.ticks->idle;
    ticks_.steal += end.ticks->steal - start.ticks->steal;
  }
  if (end.load) {
    load_sum_ += *end.load;
    ++load_count_;
  }
}

void MachineWindow::Merge(const MachineWindow& other) {
  ticks_.total += other.ticks_.total;
  ticks_.idle += other.ticks_.idle;
  ticks_.steal += other.ticks_.steal;
  load_sum_ += other.load_sum_;
  load_count_ += other.load_count_;
}

absl::optional<double> MachineWindow::MeanLoad() const {
  if (load_count_ == 0) return absl::nullopt;
  return load_sum_ / load_count_;
}

absl::optional<double> MachineWindow::StealPercent() const {
  if (ticks_.total <= 0) return absl::nullopt;
  return 100.0 * static_cast<double>(ticks_.steal) /
         static_cast<double>(ticks_.total);
}

absl::optional<double> MachineWindow::BusyPercent() const {
  if (ticks_.total <= 0) return absl::nullopt;
  return 100.0 * static_cast<double>(ticks_.total - ticks_.idle) /
         static_cast<double>(ticks_.total);
}

std::string FormatLoad(absl::optional<double> load) {
  return load ? absl::StrFormat("%.2f", *load) : "-";
}

std::string FormatPercent(absl::optional<double> percent) {
  return percent ? absl::StrFormat("%.1f", *percent) : "-";
}

std::string FormatMachineWindow(const MachineWindow& window) {
  const absl::optional<double> steal = window.StealPercent();
  return absl::StrCat("load ", FormatLoad(window.MeanLoad()), ", steal ",
                      steal ? absl::StrCat(FormatPercent(steal), "%") : "-");
}

}  // namespace tasks::bench
