#include "bench/table_cells.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::bench {
namespace {

TEST(TableCellsTest, MillisecondsWithThreeDecimals) {
  EXPECT_EQ(FormatMs(absl::Microseconds(1234)), "1.234");
  EXPECT_EQ(FormatMs(absl::ZeroDuration()), "0.000");
}

TEST(TableCellsTest, CpuMicrosecondsOrDashWhenNotMeasured) {
  EXPECT_EQ(FormatCpuUs(absl::Nanoseconds(12345)), "12.3");
  EXPECT_EQ(FormatCpuUs(absl::ZeroDuration()), "-");
}

TEST(TableCellsTest, RatioNeedsABaselineAboveZero) {
  EXPECT_DOUBLE_EQ(*Ratio(970, 1000), 0.97);
  EXPECT_DOUBLE_EQ(*Ratio(0, 1000),
                   0.0);  // every call failed: shown, not hidden
  EXPECT_FALSE(Ratio(1000, 0).has_value());
  EXPECT_EQ(FormatRatio(Ratio(1030, 1000)), "1.03");
  EXPECT_EQ(FormatRatio(Ratio(1000, 0)), "-");
}

}  // namespace
}  // namespace tasks::bench
