#ifndef TASKS_SERVICE_LISTEN_ADDRESS_H_
#define TASKS_SERVICE_LISTEN_ADDRESS_H_

#include "absl/strings/string_view.h"

namespace tasks::service {

// IsLoopbackAddress()
//
// Whether a gRPC listening address ("host:port", "[v6]:port", "unix:path")
// can only be reached from this machine: "localhost" (and names under
// ".localhost"), 127.0.0.0/8, ::1, ::ffff:127.x.x.x, or a Unix socket.
// Everything else counts as reachable from the network: the wildcards
// 0.0.0.0 and [::], an empty host (":50051"), any other IP or hostname.
//
// Example:
//   IsLoopbackAddress("localhost:50051")   // true
//   IsLoopbackAddress("0.0.0.0:50051")     // false
bool IsLoopbackAddress(absl::string_view listen_address);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_LISTEN_ADDRESS_H_
