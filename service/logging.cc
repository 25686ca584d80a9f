#include "service/logging.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

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

// `text` with each control byte written as an escape ("\n", "\x1b"); other
// bytes, UTF-8 included, are kept.
std::string EscapeControls(absl::string_view text) {
  std::string escaped;
  escaped.reserve(text.size() + 16);
  for (char c : text) {
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

void LogFields(LogLevel level, absl::string_view message,
               absl::Span<const LogField> fields) {
  if (!LogEnabled(level)) return;
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
    if (std::any_of(text.begin(), text.end(), IsControl)) {
      text = EscapeControls(text);
    }
    line = absl::StrCat(std::string(1, kLevels[static_cast<int>(level)].letter),
                        " ",
                        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                         absl::UTCTimeZone()),
                        " ", text, "\n");
  }
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

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
