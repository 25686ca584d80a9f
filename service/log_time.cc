#include "service/log_time.h"

#include <cstdint>

#include "absl/time/civil_time.h"

namespace tasks::service {
namespace {

constexpr char kFormat[] = "%Y-%m-%dT%H:%M:%E6SZ";

// Writes `value` as `digits` decimal digits, zero-padded, at `out`.
char* PutDigits(int64_t value, int digits, char* out) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + digits;
}

}  // namespace

void AppendLogTime(absl::Time time, std::string* out) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond second = absl::ToCivilSecond(time, utc);
  // Four digits, as %Y writes them, only within 1000..9999.
  if (second.year() < 1000 || second.year() > 9999 ||
      time == absl::InfiniteFuture() || time == absl::InfinitePast()) {
    out->append(absl::FormatTime(kFormat, time, utc));
    return;
  }
  const int64_t micros =
      absl::ToInt64Microseconds(time - absl::FromCivil(second, utc));
  char text[sizeof("YYYY-MM-DDTHH:MM:SS.ffffffZ")];
  char* at = PutDigits(second.year(), 4, text);
  *at++ = '-';
  at = PutDigits(second.month(), 2, at);
  *at++ = '-';
  at = PutDigits(second.day(), 2, at);
  *at++ = 'T';
  at = PutDigits(second.hour(), 2, at);
  *at++ = ':';
  at = PutDigits(second.minute(), 2, at);
  *at++ = ':';
  at = PutDigits(second.second(), 2, at);
  *at++ = '.';
  at = PutDigits(micros, 6, at);
  *at++ = 'Z';
  out->append(text, at - text);
}

}  // namespace tasks::service
