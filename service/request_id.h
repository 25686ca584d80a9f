#ifndef TASKS_SERVICE_REQUEST_ID_H_
#define TASKS_SERVICE_REQUEST_ID_H_

#include <grpcpp/server_context.h>

#include "absl/strings/string_view.h"

namespace tasks::service {

// The client metadata key of a call's request id, echoed back in the
// answer's initial metadata and written in the call's log line.
inline constexpr char kRequestIdKey[] = "x-request-id";

// The longest request id taken; longer ones are ignored.
inline constexpr int kMaxRequestIdLength = 128;

// The call's request id: its x-request-id metadata when that is 1 to
// kMaxRequestIdLength characters from A-Z a-z 0-9 and "-._:/+=" (a UUID, a
// trace id, base64), else empty. Anything else is ignored rather than logged
// or echoed: a client must not be able to forge log lines or bloat answers.
absl::string_view RequestIdOf(const grpc::ServerContextBase& context);

// Adds the call's request id, if any, to the answer's initial metadata;
// before the answer is sent.
void EchoRequestId(grpc::ServerContextBase& context);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_REQUEST_ID_H_
