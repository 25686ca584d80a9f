#include "service/library_logs.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

void LogLibraryLine(LogLevel level, absl::string_view source, const char* file,
                    int line, absl::string_view message) {
  if (!LogEnabled(level)) return;
  if (file == nullptr) file = "";
  if (GetLogFormat() == LogFormat::kJson) {
    const LogField fields[] = {
        LogField::Text("source", source),
        LogField::Text("file", file),
        LogField::Number("line", line),
    };
    LogFields(level, message, fields);
  } else {
    Log(level, absl::StrCat(source, " ", file, ":", line, " ", message));
  }
}

void LogGrpcLine(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = LogLevel::kInfo;
  LogLibraryLine(level, "grpc", args->file, args->line,
                 args->message == nullptr ? "" : args->message);
}

void LogProtobufLine(google::protobuf::LogLevel severity, const char* file,
                     int line, const std::string& message) {
  LogLevel level = LogLevel::kError;
  if (severity == google::protobuf::LOGLEVEL_INFO) level = LogLevel::kInfo;
  // Protobuf's complaint about a request it could not parse (invalid UTF-8
  // in a string field) is about the client, not the server: a warning, so
  // that any client cannot fill the error level with one line per call.
  if (severity == google::protobuf::LOGLEVEL_WARNING ||
      absl::StrContains(message, "when parsing a protocol buffer")) {
    level = LogLevel::kWarning;
  }
  LogLibraryLine(level, "protobuf", file, line, message);
}

}  // namespace

void RouteLibraryLogsToLogger() {
  gpr_set_log_function(&LogGrpcLine);
  google::protobuf::SetLogHandler(&LogProtobufLine);
}

}  // namespace tasks::service
