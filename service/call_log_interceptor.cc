#include "service/call_log_interceptor.h"

#include <grpcpp/server_context.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging.h"
#include "service/request_id.h"

namespace tasks::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

class CallLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(grpc::experimental::ServerRpcInfo* info,
                     const TokenTable* tokens)
      : info_(info),
        method_(info->method() == nullptr ? "(unknown)" : info->method()),
        tokens_(tokens),
        start_(absl::Now()) {}

  ~CallLogInterceptor() override {
    // A stream that ended without a status: its client cancelled or went
    // away (a WatchTasks client stopping, say). Logged as the client sees it.
    if (!logged_ && facts_.has_value()) {
      LogCall(grpc::Status(grpc::StatusCode::CANCELLED,
                           "the client cancelled or went away"));
    }
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (info_->type() != grpc::experimental::ServerRpcInfo::Type::UNARY &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      KeepFacts();
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      LogCall(methods->GetSendStatus());
      logged_ = true;
    }
    methods->Proceed();
  }

 private:
  // What a stream's line says besides its end, read while its context is
  // there: a stream may end with no status sent, when only this object is
  // left of it.
  struct Facts {
    std::string principal;
    std::string peer;
    std::string request_id;
  };

  void KeepFacts() {
    grpc::ServerContextBase* context = info_->server_context();
    if (context == nullptr) return;
    Facts facts;
    if (tokens_ != nullptr) facts.principal = PrincipalName();
    facts.peer = context->peer();
    facts.request_id = std::string(RequestIdOf(*context));
    facts_ = std::move(facts);
  }

  void LogCall(const grpc::Status& status) const {
    if (!LogEnabled(LogLevel::kInfo)) return;
    const std::string code = absl::StatusCodeToString(
        static_cast<absl::StatusCode>(status.error_code()));
    // The wall clock may step back (NTP): never a negative latency.
    const absl::Duration latency =
        std::max(absl::ZeroDuration(), absl::Now() - start_);
    if (GetLogFormat() == LogFormat::kJson) {
      LogJson(status, code, absl::ToDoubleMilliseconds(latency));
      return;
    }
    // "%.3fms" without StrFormat, which parses its format on every call.
    const int64_t micros =
        absl::ToInt64Microseconds(latency + absl::Nanoseconds(500));
    std::string line =
        absl::StrCat(method_, " ", code, " ", micros / 1000, ".",
                     absl::Dec(micros % 1000, absl::kZeroPad3), "ms");
    if (tokens_ != nullptr) {
      absl::StrAppend(&line, " principal=",
                      facts_.has_value() ? facts_->principal : PrincipalName());
    }
    if (!status.ok()) absl::StrAppend(&line, ": ", status.error_message());
    Log(LogLevel::kInfo, line);
  }

  // The same call as one JSON object: the fields an operator filters on.
  void LogJson(const grpc::Status& status, absl::string_view code,
               double latency_ms) const {
    std::string peer;
    std::string request_id;
    std::string principal;
    if (facts_.has_value()) {
      peer = facts_->peer;
      request_id = facts_->request_id;
      principal = facts_->principal;
    } else {
      // Only while the call is there: a unary call logs as it answers.
      grpc::ServerContextBase* context = info_->server_context();
      if (context != nullptr) {
        peer = context->peer();
        request_id = std::string(RequestIdOf(*context));
      }
      if (tokens_ != nullptr) principal = PrincipalName();
    }
    // grpc::Status::error_message() returns a copy: kept alive here.
    const std::string error = status.error_message();
    std::vector<LogField> fields = {
        LogField::Text("method", method_),
        LogField::Text("code", code),
        // Rounded to the microsecond, as in text.
        LogField::Number("latency_ms", std::round(latency_ms * 1000) / 1000),
        LogField::Text("peer", peer),
    };
    if (tokens_ != nullptr) {
      fields.push_back(LogField::Text("principal", principal));
    }
    if (!request_id.empty()) {
      fields.push_back(LogField::Text("request_id", request_id));
    }
    if (!status.ok()) {
      fields.push_back(LogField::Text("error", error));
    }
    LogFields(LogLevel::kInfo, "call", fields);
  }

  // The caller's principal name, "-" for none. Authenticated again here (the
  // service does it too, and keeps no per-call state to share): a SHA-256 and
  // a few compares.
  std::string PrincipalName() const {
    grpc::ServerContextBase* context = info_->server_context();
    if (context == nullptr) return "-";
    absl::StatusOr<const Principal*> principal =
        tokens_->Authenticate(context->client_metadata());
    return principal.ok() ? (*principal)->name() : "-";
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const char* method_;
  const TokenTable* const tokens_;
  const absl::Time start_;
  bool logged_ = false;
  std::optional<Facts> facts_;  // streams only
};

}  // namespace

grpc::experimental::Interceptor*
CallLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // Nothing to log: no interceptor, which spares gRPC its per-call hooks.
  if (!LogEnabled(LogLevel::kInfo)) return nullptr;
  return new CallLogInterceptor(info, tokens_);
}

}  // namespace tasks::service
