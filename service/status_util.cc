#include "service/status_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/logging.h"

namespace tasks::service {
namespace {

constexpr char kGenericInternalMessage[] = "internal error";

std::string DefaultReason(absl::StatusCode code) {
  if (code == absl::StatusCode::kUnavailable) {
    return reason::kDatabaseUnavailable;
  }
  return absl::StatusCodeToString(code);
}

bool HidesDetail(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal ||
         code == absl::StatusCode::kUnknown;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;

  std::string message(status.message());
  if (HidesDetail(status.code())) {
    Log(LogLevel::kError, absl::StrCat("internal error: ", status.ToString()));
    message = kGenericInternalMessage;
  }

  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(ErrorReason(status).value_or(DefaultReason(status.code())));
  info.set_domain(kErrorDomain);
  rpc_status.add_details()->PackFrom(info);

  if (status.code() == absl::StatusCode::kInvalidArgument) {
    google::rpc::BadRequest bad_request;
    google::rpc::BadRequest::FieldViolation* violation =
        bad_request.add_field_violations();
    violation->set_field(ErrorField(status).value_or(""));
    violation->set_description(message);
    rpc_status.add_details()->PackFrom(bad_request);
  }

  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

}  // namespace tasks::service
