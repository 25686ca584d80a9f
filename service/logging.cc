#include "service/logging.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/utf8.h"
#include "service/log_output.h"
#include "service/log_time.h"

namespace tasks::service {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> log_format{static_cast<int>(LogFormat::kText)};

// Log() reads the current list without a lock; AddLogSecret() publishes a
// new one and keeps the old ones (a reader may still hold them) until exit.
using SecretList = std::vector<std::string>;
std::atomic<const SecretList*> secrets{nullptr};
ABSL_CONST_INIT absl::Mutex secrets_mu(absl::kConstInit);
std::vector<std::unique_ptr<SecretList>>& AllSecretLists() {
  static auto* lists = new std::vector<std::unique_ptr<SecretList>>();
  return *lists;
}

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

// True for the bytes a terminal or a log reader acts on: a newline would
// start a line that looks like the server's own.
bool IsControl(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == '\x7f';
}

// True when `text` needs EscapeControls: a control byte, or any byte of a
// multi-byte sequence (which may be a C1 control or invalid UTF-8).
bool NeedsEscaping(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return IsControl(c) || static_cast<unsigned char>(c) >= 0x80;
  });
}

// Code points that act like controls in a terminal or a log viewer: C1
// controls (U+0085 NEL is a line break to some, U+009B starts an escape
// sequence), the line and paragraph separators, and the bidirectional
// overrides and isolates, which reorder what a reader sees.
bool IsControlCodePoint(uint32_t code) {
  return (code >= 0x80 && code <= 0x9f) || code == 0x2028 || code == 0x2029 ||
         (code >= 0x202a && code <= 0x202e) ||
         (code >= 0x2066 && code <= 0x2069);
}

// `text` with each control byte written as an escape ("\n", "\x1b"), each
// control code point as "\u0085", each byte of invalid UTF-8 as "\xNN";
// other text, UTF-8 included, is kept.
std::string EscapeControls(absl::string_view text) {
  std::string escaped;
  escaped.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      uint32_t code = 0;
      const size_t length = DecodeUtf8(text.substr(i), &code);
      if (length == 0) {
        absl::StrAppend(
            &escaped, "\\x",
            absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        ++i;
      } else if (IsControlCodePoint(code)) {
        absl::StrAppend(&escaped, "\\u", absl::Hex(code, absl::kZeroPad4));
        i += length;
      } else {
        escaped.append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    ++i;
    if (!IsControl(c)) {
      escaped.push_back(c);
    } else if (c == '\n') {
      escaped.append("\\n");
    } else if (c == '\r') {
      escaped.append("\\r");
    } else if (c == '\t') {
      escaped.append("\\t");
    } else {
      absl::StrAppend(
          &escaped, "\\x",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return escaped;
}

// Every occurrence of a secret in `text` as "***".
void MaskSecrets(std::string* text) {
  if (const SecretList* list = secrets.load(std::memory_order_acquire)) {
    for (const std::string& secret : *list) {
      absl::StrReplaceAll({{secret, "***"}}, text);
    }
  }
}

bool HasSecrets() { return secrets.load(std::memory_order_acquire) != nullptr; }

}  // namespace

void SetLogFormat(LogFormat format) {
  log_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

LogFormat GetLogFormat() {
  return static_cast<LogFormat>(log_format.load(std::memory_order_relaxed));
}

void SetLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message) {
  LogFields(level, message, {});
}

namespace {

// `message` and `fields` as one line of the current format, newline
// included.
std::string FormatLine(LogLevel level, absl::string_view message,
                       absl::Span<const LogField> fields) {
  std::string text(message);
  MaskSecrets(&text);
  std::string line;
  if (GetLogFormat() == LogFormat::kJson) {
    // JsonLogLine escapes whatever the message and fields hold.
    std::vector<std::string> masked;  // the text fields' values, when masking
    std::vector<LogField> masked_fields(fields.begin(), fields.end());
    if (HasSecrets()) {
      masked.reserve(fields.size());
      for (LogField& field : masked_fields) {
        if (field.is_number) continue;
        masked.emplace_back(field.text);
        MaskSecrets(&masked.back());
        field.text = masked.back();
      }
    }
    line = JsonLogLine(absl::Now(), kLevels[static_cast<int>(level)].name, text,
                       masked_fields);
  } else {
    // Messages quote what clients send (an unknown order_by, a mask path):
    // escaped here, so no caller can forget it.
    if (NeedsEscaping(text)) text = EscapeControls(text);
    // Level, space, timestamp (27), space, text, newline.
    line.reserve(31 + text.size());
    line.push_back(kLevels[static_cast<int>(level)].letter);
    line.push_back(' ');
    AppendLogTime(absl::Now(), &line);
    absl::StrAppend(&line, " ", text, "\n");
  }
  return line;
}

// Made at the first line, never destroyed: threads may still log while the
// process exits.
LogOutput& Output() {
  static LogOutput* const output = [] {
    LogOutput::Options options;
    options.dropped_line = [](int64_t count) {
      return FormatLine(LogLevel::kWarning,
                        absl::StrCat("stderr was too slow or failed: ", count,
                                     " log lines were dropped"),
                        {});
    };
    auto* created = new LogOutput(std::move(options));
    // Bounded: a stuck reader of stderr must not keep the process alive.
    std::atexit([] { Output().Flush(absl::Now() + absl::Seconds(2)); });
    return created;
  }();
  return *output;
}

}  // namespace

void LogFields(LogLevel level, absl::string_view message,
               absl::Span<const LogField> fields) {
  if (!LogEnabled(level)) return;
  // Warnings and errors are rare and may precede a crash: written at once.
  Output().Write(FormatLine(level, message, fields),
                 level >= LogLevel::kWarning);
}

void FlushLog() { Output().Flush(); }

int64_t LogLinesDropped() { return Output().dropped_total(); }

void AddLogSecret(absl::string_view secret) {
  if (secret.size() < kMinLogSecretLength) return;
  absl::MutexLock lock(&secrets_mu);
  const SecretList* old = secrets.load(std::memory_order_acquire);
  auto list = old == nullptr ? std::make_unique<SecretList>()
                             : std::make_unique<SecretList>(*old);
  list->emplace_back(secret);
  secrets.store(list.get(), std::memory_order_release);
  AllSecretLists().push_back(std::move(list));
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

bool AbslParseFlag(absl::string_view text, LogFormat* format,
                   std::string* error) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "text" || lower == "json") {
    *format = lower == "json" ? LogFormat::kJson : LogFormat::kText;
    return true;
  }
  *error = "must be text or json";
  return false;
}

std::string AbslUnparseFlag(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

}  // namespace tasks::service
