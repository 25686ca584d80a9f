#ifndef TASKS_SERVICE_STATUS_UTIL_H_
#define TASKS_SERVICE_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tasks::service {

// The ErrorInfo domain of every error this service returns.
inline constexpr char kErrorDomain[] = "tasks.v1";

// ToGrpcStatus()
//
// Converts an absl::Status to the grpc::Status sent to the client. The codes
// share numbers. A failed status also carries, as the grpc::Status's binary
// error details (sent by gRPC as the `grpc-status-details-bin` trailer), a
// serialized google.rpc.Status with:
//   - google.rpc.ErrorInfo{reason, domain "tasks.v1"}: the reason attached
//     with tasks::WithReason, else a default for the code (DATABASE_UNAVAILABLE
//     for UNAVAILABLE, otherwise the code's name such as "NOT_FOUND");
//   - for INVALID_ARGUMENT, google.rpc.BadRequest with one field violation
//     naming tasks::ErrorField(status) (empty when the status names no field).
// INTERNAL and UNKNOWN show the client only "internal error": their message
// may hold SQL or other detail, which is logged here instead. A status's
// tasks::OperatorDetail is never sent either: it is logged at warning level,
// at most one such line a second.
//
// Example:
//   return ToGrpcStatus(store.DeleteTask(id).status());
// The message (and the violation's field) are clipped by ClipStatusMessage.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `message` when it has at most kMaxStatusMessageBytes; otherwise its start
// and its end around "...(N bytes left out)...", cut at code points: a
// refusal that quotes a client's megabyte stays a short answer and a short
// log line.
inline constexpr size_t kMaxStatusMessageBytes = 1024;
std::string ClipStatusMessage(absl::string_view message);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_STATUS_UTIL_H_
