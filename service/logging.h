#ifndef TASKS_SERVICE_LOGGING_H_
#define TASKS_SERVICE_LOGGING_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "service/log_json.h"

namespace tasks::service {

// The server's one logger: lines on stderr, each
//   "<level letter> <UTC time> <message>", e.g.
//   I 2024-05-01T12:00:00.123456Z /tasks.v1.TaskService/GetTask OK 0.41ms
// or, in LogFormat::kJson, one JSON object (JsonLogLine), e.g.
//   {"time":"2024-05-01T12:00:00.123456Z","level":"info","message":"call",
//    "method":"/tasks.v1.TaskService/GetTask","code":"OK",...}
// Debian's Abseil has no absl/log, and gRPC's gpr_log is meant for gRPC itself.
enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Thread-safe; the default is kInfo.
void SetLogLevel(LogLevel level);

// How lines are written; the default is kText. Thread-safe, but meant for
// start-up.
enum class LogFormat { kText = 0, kJson = 1 };
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

// True when a line at `level` would be written: guards costly formatting.
bool LogEnabled(LogLevel level);

// Queues one line for stderr when `level` is enabled (whole, never
// interleaved with another thread's; see FlushLog for when it is written).
// Control bytes in `message` (below 0x20, and 0x7f) are
// written as escapes ("\n", "\x1b"), so text a client sent cannot start a
// line of its own; other bytes are written as they are. (In kJson, the
// message is a JSON string, escaped as AppendJsonString does.)
void Log(LogLevel level, absl::string_view message);

// Lines at info and below reach stderr in batches, about every millisecond
// (see LogOutput); warnings and errors before Log returns, after every line
// logged before them (unless stderr takes nothing for a second). At exit,
// what is left is written if stderr takes it within 2 s. FlushLog(), for
// tests, waits until every line logged so far is written, however long
// stderr takes.
void FlushLog();

// Lines dropped so far because stderr was too slow (a stuck reader) or
// failed.
int64_t LogLinesDropped();

// Log(level, message) with named values: in kJson each field is a member of
// the line's object after "message"; in kText only `message` is written (it
// should say what the fields hold). Secrets are masked in the message and in
// text fields alike.
void LogFields(LogLevel level, absl::string_view message,
               absl::Span<const LogField> fields);

// Log(level, absl::StrFormat(format, args...)), formatting only when enabled.
template <typename... Args>
void Logf(LogLevel level, const absl::FormatSpec<Args...>& format,
          const Args&... args) {
  if (LogEnabled(level)) Log(level, absl::StrFormat(format, args...));
}

// From now on, every occurrence of `secret` in a message is written as "***"
// (matched before escaping): a
// last line of defence for a password that a lower layer's error message
// might quote. Secrets shorter than kMinLogSecretLength are ignored (masking
// them would garble ordinary words). Thread-safe, but meant for start-up:
// each call copies the list of secrets.
inline constexpr int kMinLogSecretLength = 4;
void AddLogSecret(absl::string_view secret);

// Abseil flag support: "debug", "info", "warning", "error"; "text", "json".
bool AbslParseFlag(absl::string_view text, LogLevel* level, std::string* error);
std::string AbslUnparseFlag(LogLevel level);
bool AbslParseFlag(absl::string_view text, LogFormat* format,
                   std::string* error);
std::string AbslUnparseFlag(LogFormat format);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LOGGING_H_
