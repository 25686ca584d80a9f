#include "tests/testing/grpc_status_matchers.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace tasks::testing {

RpcErrorDetails ParseRpcErrorDetails(const grpc::Status& status) {
  RpcErrorDetails details;
  google::rpc::Status rpc_status;
  if (status.error_details().empty() ||
      !rpc_status.ParseFromString(status.error_details())) {
    return details;
  }
  details.parsed = true;
  details.code = rpc_status.code();
  details.message = rpc_status.message();
  for (const google::protobuf::Any& any : rpc_status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&info)) {
      details.reason = info.reason();
      details.domain = info.domain();
    } else if (any.UnpackTo(&bad_request) &&
               !bad_request.field_violations().empty()) {
      details.field = bad_request.field_violations(0).field();
    }
  }
  return details;
}

std::string DescribeGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return "OK";
  std::string text = absl::StrCat("code ", status.error_code(), " \"",
                                  status.error_message(), "\"");
  const RpcErrorDetails details = ParseRpcErrorDetails(status);
  if (!details.parsed) return absl::StrCat(text, " without details");
  return absl::StrCat(text, " details{code ", details.code, ", reason ",
                      details.reason.value_or("(none)"), ", domain ",
                      details.domain.value_or("(none)"), ", field ",
                      details.field.value_or("(none)"), "}");
}

}  // namespace tasks::testing
