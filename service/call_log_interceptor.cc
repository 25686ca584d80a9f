#include "service/call_log_interceptor.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

class CallLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CallLogInterceptor(const char* method)
      : method_(method == nullptr ? "(unknown)" : method),
        start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      LogCall(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void LogCall(const grpc::Status& status) const {
    if (!LogEnabled(LogLevel::kInfo)) return;
    std::string line = absl::StrFormat(
        "%s %s %.3fms", method_,
        absl::StatusCodeToString(
            static_cast<absl::StatusCode>(status.error_code())),
        absl::ToDoubleMilliseconds(absl::Now() - start_));
    if (!status.ok()) absl::StrAppend(&line, ": ", status.error_message());
    Log(LogLevel::kInfo, line);
  }

  const char* method_;
  const absl::Time start_;
};

}  // namespace

grpc::experimental::Interceptor*
CallLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new CallLogInterceptor(info->method());
}

}  // namespace tasks::service
