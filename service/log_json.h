#ifndef TASKS_SERVICE_LOG_JSON_H_
#define TASKS_SERVICE_LOG_JSON_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace tasks::service {

// One named value of a structured log line: text or a number.
struct LogField {
  static LogField Text(absl::string_view key, absl::string_view value) {
    return {key, value, 0, false};
  }
  static LogField Number(absl::string_view key, double value) {
    return {key, {}, value, true};
  }

  absl::string_view key;
  absl::string_view text;
  double number = 0;
  bool is_number = false;
};

// Appends `text` to `out` as a JSON string, quotes included: `"` and `\`
// escaped, control characters (below 0x20, and 0x7f) as \n, \t, \r or
// \u00XX, and every byte that is not part of valid UTF-8 as \ufffd (the
// replacement character), so that any bytes at all give valid JSON that
// stays on one line.
void AppendJsonString(absl::string_view text, std::string* out);

// One log line as a JSON object, newline included:
//   {"time":"2024-05-01T12:00:00.123456Z","level":"info","message":"...",
//    <each field in order>}
// Numbers that are not finite are written as null. Keys are the caller's
// constants and are escaped all the same.
std::string JsonLogLine(absl::Time time, absl::string_view level,
                        absl::string_view message,
                        absl::Span<const LogField> fields);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LOG_JSON_H_
