#ifndef TASKS_BENCH_TABLE_CELLS_H_
#define TASKS_BENCH_TABLE_CELLS_H_

#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace tasks::bench {

// Cells of the matrix's tables: each value in one fixed form, "-" where
// there is nothing to show.

// "1.234": milliseconds with 3 decimals.
std::string FormatMs(absl::Duration d);

// "12.3": CPU microseconds per call; "-" when not measured (zero or less).
std::string FormatCpuUs(absl::Duration per_op);

// value / baseline; absent when the baseline is not above zero (not
// measured, or every call failed).
absl::optional<double> Ratio(double value, double baseline);

// "0.97": a ratio with 2 decimals; "-" when absent.
std::string FormatRatio(absl::optional<double> ratio);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_TABLE_CELLS_H_
