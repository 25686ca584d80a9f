#ifndef TASKS_TESTS_TESTING_GRPC_STATUS_MATCHERS_H_
#define TASKS_TESTS_TESTING_GRPC_STATUS_MATCHERS_H_

// GoogleMock matchers for the grpc::Status a client receives, including the
// google.rpc details the service sends in the grpc-status-details-bin
// trailer:
//
//   EXPECT_THAT(stub->GetTask(&context, request, &task), GrpcOk());
//   EXPECT_THAT(status, GrpcErrorIs(grpc::StatusCode::NOT_FOUND,
//                                   "TASK_NOT_FOUND"));
//   EXPECT_THAT(status, GrpcInvalidField("task.title", "INVALID_ARGUMENT"));

#include <optional>
#include <ostream>
#include <string>

#include <grpcpp/support/status.h>

#include "gmock/gmock.h"

namespace tasks::testing {

// What a failed call carried, decoded from grpc::Status::error_details().
struct RpcErrorDetails {
  bool parsed = false;  // error_details held a google.rpc.Status.
  int code = 0;         // google.rpc.Status.code
  std::string message;
  std::optional<std::string> reason;  // ErrorInfo.reason
  std::optional<std::string> domain;  // ErrorInfo.domain
  std::optional<std::string> field;   // BadRequest's first violation's field
};

RpcErrorDetails ParseRpcErrorDetails(const grpc::Status& status);

// A one-line description: code, message and details.
std::string DescribeGrpcStatus(const grpc::Status& status);

// Matches an OK grpc::Status.
MATCHER(GrpcOk, "is OK") {
  *result_listener << "which is " << DescribeGrpcStatus(arg);
  return arg.ok();
}

// Matches a grpc::Status with code `code` carrying a google.rpc.Status of the
// same code and an ErrorInfo with `reason` in domain "tasks.v1".
MATCHER_P2(GrpcErrorIs, code, reason,
           "has code " + ::testing::PrintToString(static_cast<int>(code)) +
               " and ErrorInfo reason " + std::string(reason)) {
  *result_listener << "which is " << DescribeGrpcStatus(arg);
  const RpcErrorDetails details = ParseRpcErrorDetails(arg);
  return arg.error_code() == code && details.parsed &&
         details.code == static_cast<int>(code) &&
         details.reason == std::string(reason) &&
         details.domain == std::string("tasks.v1");
}

// Matches an INVALID_ARGUMENT grpc::Status with ErrorInfo `reason` whose
// BadRequest names `field`.
MATCHER_P2(GrpcInvalidField, field, reason,
           "is INVALID_ARGUMENT with reason " + std::string(reason) +
               " for field " + std::string(field)) {
  *result_listener << "which is " << DescribeGrpcStatus(arg);
  const RpcErrorDetails details = ParseRpcErrorDetails(arg);
  return arg.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
         details.parsed && details.code == grpc::StatusCode::INVALID_ARGUMENT &&
         details.reason == std::string(reason) &&
         details.domain == std::string("tasks.v1") &&
         details.field == std::string(field);
}

}  // namespace tasks::testing

namespace grpc {

// Prints a grpc::Status in failure messages (found by argument-dependent
// lookup).
inline void PrintTo(const Status& status, std::ostream* os) {
  *os << ::tasks::testing::DescribeGrpcStatus(status);
}

}  // namespace grpc

#endif  // TASKS_TESTS_TESTING_GRPC_STATUS_MATCHERS_H_
