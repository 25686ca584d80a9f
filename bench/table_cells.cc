#include "bench/table_cells.h"

#include "absl/strings/str_format.h"

namespace tasks::bench {

std::string FormatMs(absl::Duration d) {
  return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d));
}

std::string FormatCpuUs(absl::Duration per_op) {
  if (per_op <= absl::ZeroDuration()) return "-";
  return absl::StrFormat("%.1f", absl::ToDoubleMicroseconds(per_op));
}

absl::optional<double> Ratio(double value, double baseline) {
  if (baseline <= 0) return absl::nullopt;
  return value / baseline;
}

std::string FormatRatio(absl::optional<double> ratio) {
  return ratio ? absl::StrFormat("%.2f", *ratio) : "-";
}

}  // namespace tasks::bench
