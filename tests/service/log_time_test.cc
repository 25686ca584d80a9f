// AppendLogTime writes what absl::FormatTime writes for a log timestamp.

#include "service/log_time.h"

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

std::string Expected(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
}

std::string Written(absl::Time time) {
  std::string out = "prefix ";
  AppendLogTime(time, &out);
  return out.substr(7);
}

absl::Time At(absl::CivilSecond second, int64_t micros) {
  return absl::FromCivil(second, absl::UTCTimeZone()) +
         absl::Microseconds(micros);
}

TEST(LogTimeTest, AppendsWhatFormatTimeWrites) {
  EXPECT_EQ(Written(At(absl::CivilSecond(2026, 12, 6, 15, 4, 5), 12345)),
            "2026-12-06T15:04:05.012345Z");
  EXPECT_EQ(Written(absl::UnixEpoch()), Expected(absl::UnixEpoch()));
}

TEST(LogTimeTest, AgreesAtTheCalendarsEdges) {
  for (absl::Time time : {
           At(absl::CivilSecond(2024, 2, 29, 23, 59, 59), 999999),
           At(absl::CivilSecond(2100, 3, 1, 0, 0, 0), 0),
           At(absl::CivilSecond(2000, 12, 31, 12, 0, 0), 1),
           At(absl::CivilSecond(1969, 12, 31, 23, 59, 59), 999999),
           At(absl::CivilSecond(1900, 1, 1, 0, 0, 0), 500000),
           At(absl::CivilSecond(1000, 1, 1, 0, 0, 0), 0),
           At(absl::CivilSecond(9999, 12, 31, 23, 59, 59), 999999),
           // Outside four digits: absl's text, whatever it is.
           At(absl::CivilSecond(999, 12, 31, 23, 59, 59), 0),
           At(absl::CivilSecond(0, 1, 1, 0, 0, 0), 0),
           At(absl::CivilSecond(10000, 1, 1, 0, 0, 0), 0),
           At(absl::CivilSecond(-1, 6, 1, 0, 0, 0), 0),
           absl::InfiniteFuture(),
           absl::InfinitePast(),
           // Below a microsecond: truncated, as %E6S does.
           absl::UnixEpoch() + absl::Nanoseconds(999),
           absl::UnixEpoch() - absl::Nanoseconds(1),
       }) {
    EXPECT_EQ(Written(time), Expected(time));
  }
}

TEST(LogTimeTest, AgreesOnRandomTimes) {
  absl::BitGen random;
  for (int i = 0; i < 100000; ++i) {
    const absl::Time time = absl::FromUnixNanos(absl::Uniform<int64_t>(
        random, -2'000'000'000'000'000'000, 4'000'000'000'000'000'000));
    ASSERT_EQ(Written(time), Expected(time));
  }
}

}  // namespace
}  // namespace tasks::service
