#include "bench/run_stats.h"

#include <sys/resource.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tasks::bench {

double RunStats::PerSecond() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<double>(ok) / seconds : 0.0;
}

int64_t RunStats::ErrorCount() const {
  int64_t total = 0;
  for (const auto& [cause, n] : errors) total += n;
  return total;
}

absl::Duration RunStats::ClientCpuPerOp() const {
  return ok > 0 ? client_cpu / ok : absl::ZeroDuration();
}

absl::Duration RunStats::ServerCpuPerOp() const {
  return ok > 0 ? server_cpu / ok : absl::ZeroDuration();
}

void RunStats::Merge(const RunStats& other) {
  ok += other.ok;
  for (const auto& [cause, n] : other.errors) errors[cause] += n;
  latency.Merge(other.latency);
  elapsed = std::max(elapsed, other.elapsed);
  response_bytes += other.response_bytes;
  client_cpu += other.client_cpu;
  server_cpu += other.server_cpu;
}

void RunStats::Append(const RunStats& later) {
  const absl::Duration total = elapsed + later.elapsed;
  Merge(later);
  elapsed = total;
}

absl::Duration ProcessCpuTime() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

std::string FormatRunStats(const RunStats& stats, const std::string& unit) {
  std::string line = absl::StrFormat(
      "%.1f %s/s (%d ok in %.2fs)  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
      stats.PerSecond(), unit, stats.ok, absl::ToDoubleSeconds(stats.elapsed),
      FormatLatency(stats.latency.Percentile(50)),
      FormatLatency(stats.latency.Percentile(90)),
      FormatLatency(stats.latency.Percentile(99)),
      FormatLatency(stats.latency.Percentile(99.9)),
      FormatLatency(stats.latency.max()));
  if (stats.ok > 0 && stats.response_bytes > 0) {
    absl::StrAppend(&line, "  response ", stats.response_bytes / stats.ok, " B");
  }
  if (stats.client_cpu > absl::ZeroDuration()) {
    absl::StrAppend(&line, "  client CPU/op ", FormatLatency(stats.ClientCpuPerOp()));
  }
  if (stats.server_cpu > absl::ZeroDuration()) {
    absl::StrAppend(&line, "  server CPU/op ", FormatLatency(stats.ServerCpuPerOp()));
  }
  if (stats.errors.empty()) {
    absl::StrAppend(&line, "  errors: none");
  } else {
    absl::StrAppend(&line, "  errors:");
    for (const auto& [cause, n] : stats.errors) {
      absl::StrAppend(&line, " ", cause, "=", n);
    }
  }
  return line;
}

}  // namespace tasks::bench
