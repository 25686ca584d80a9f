#include "service/logging.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tasks::service {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

constexpr struct {
  LogLevel level;
  const char* name;
  char letter;
} kLevels[] = {
    {LogLevel::kDebug, "debug", 'D'},
    {LogLevel::kInfo, "info", 'I'},
    {LogLevel::kWarning, "warning", 'W'},
    {LogLevel::kError, "error", 'E'},
};

}  // namespace

void SetLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message) {
  if (!LogEnabled(level)) return;
  std::string line = absl::StrCat(
      std::string(1, kLevels[static_cast<int>(level)].letter), " ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                       absl::UTCTimeZone()),
      " ", message, "\n");
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

bool AbslParseFlag(absl::string_view text, LogLevel* level,
                   std::string* error) {
  std::string lower = absl::AsciiStrToLower(text);
  for (const auto& entry : kLevels) {
    if (lower == entry.name) {
      *level = entry.level;
      return true;
    }
  }
  *error = "must be one of debug, info, warning, error";
  return false;
}

std::string AbslUnparseFlag(LogLevel level) {
  return kLevels[static_cast<int>(level)].name;
}

}  // namespace tasks::service
